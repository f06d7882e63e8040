// Clear the re-embed mark reembed_begin set: every memory holds a vector of the new model.
// Takes no parameters: the marker node is the graph's one, of a fixed id.
MATCH (s:MemosGraphSchema {id: 'memos-graph'})
REMOVE s.reembed_model, s.reembed_dim

// Mark the graph as being re-embedded with $model ($dimension): services refuse to start until
// reembed_finish (graph/schema.py check_no_reembed_pending).
MERGE (s:MemosGraphSchema {id: 'memos-graph'})
SET s.reembed_model = $model, s.reembed_dim = $dimension

// The model of a re-embed that began and did not finish (maintenance.py reembed_graph), no row when none did.
// Takes no parameters: the marker node is the graph's one, of a fixed id.
MATCH (s:MemosGraphSchema {id: 'memos-graph'})
WHERE s.reembed_model IS NOT NULL
RETURN s.reembed_model AS model

// The graph's data version, from its marker node, which is created (at version 1) on a graph that has none.
// Takes no parameters: the marker node is the graph's one, of a fixed id.
MERGE (s:MemosGraphSchema {id: 'memos-graph'})
RETURN coalesce(s.data_version, 1) AS version

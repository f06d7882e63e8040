// Record on the marker node that the graph's data is at $version (its migrations are done).
MATCH (s:MemosGraphSchema {id: 'memos-graph'})
SET s.data_version = $version

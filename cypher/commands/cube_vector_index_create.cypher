// A cube's own vector index, over the label its memories carry (graph/cube_index.py); the configuration is
// the shared index's, read back from the graph. Index names and labels cannot be parameters: both are digests
// of the cube id, filled in by queries.command as checked identifiers.
// identifier index
// identifier label
CREATE VECTOR INDEX {{index}} IF NOT EXISTS FOR (m:{{label}}) ON m.embedding
OPTIONS {indexConfig: $config}

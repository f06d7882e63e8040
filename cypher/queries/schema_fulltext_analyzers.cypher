// The analyzers Neo4j offers for fulltext indexes (graph/schema.py checks the configured one is among them).
// Takes no parameters: it asks Neo4j, not the graph.
CALL db.index.fulltext.listAvailableAnalyzers() YIELD analyzer
RETURN analyzer

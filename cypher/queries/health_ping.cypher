// A trivial statement: Neo4j answers (/healthz).
// Takes no parameters: it touches no data.
RETURN 1 AS ok

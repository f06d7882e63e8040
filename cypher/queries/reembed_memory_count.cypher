// How many memories the graph holds (a re-embed's progress total; read from Neo4j's count store).
// Takes no parameters: it concerns the whole graph.
MATCH (m:Memory)
RETURN count(m) AS n

// The embedding model each cube holding memories records, with how many cubes record it, the most used first.
// Takes no parameters: it concerns every cube.
MATCH (c:MemCube)
WHERE EXISTS { (c)-[:HAS_MEMORY]->(:Memory) }
RETURN c.embedding_model AS model, count(c) AS cubes
ORDER BY cubes DESC

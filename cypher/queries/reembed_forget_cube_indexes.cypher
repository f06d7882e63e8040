// Before a re-embed (memos_graph/maintenance.py) drops the cubes' own vector indexes: their searches go to
// the shared path meanwhile (an add past the size may promote the cube again, which is harmless).
// Takes no parameters: it concerns every cube.
MATCH (c:MemCube)
WHERE c.vector_index IS NOT NULL
REMOVE c.vector_index
RETURN count(c) AS cubes

// Cosine similarity of each pair of the given memories (one cube's, by position in $memory_ids): for each
// memory i, [j, cosine] for every later memory j. Neo4j's vector.similarity.cosine is (1 + cos) / 2; this
// returns cos itself. Ids of other cubes' memories are not read.
UNWIND range(0, size($memory_ids) - 1) AS i
MATCH (m:Memory {id: $memory_ids[i]})
WHERE m.cube_id = $cube_id
WITH collect({i: i, vector: m.embedding}) AS rows
UNWIND rows AS a
RETURN a.i AS i,
       [b IN rows WHERE b.i > a.i | [b.i, 2.0 * vector.similarity.cosine(a.vector, b.vector) - 1.0]] AS similar

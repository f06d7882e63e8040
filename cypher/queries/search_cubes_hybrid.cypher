// The first round trip of a search, for every searched cube at once: per cube, its size and the graph's
// (O(1) each), its exact vector top-k when it holds at most $exact_max memories (a larger cube gets no vector
// hits here; the caller goes to the vector index; $exact_max -1 skips the scan), and its BM25 ranking of
// $terms (none: no ranking) with the cube's own statistics only: N is the cube's memory count (a degree
// lookup), the average length its running total over N, a term's df the degree of the cube's :Term node.
// Nothing another cube holds enters the score, so no other tenant can move this ranking. BM25 scores every
// memory that shares a term with the query (as Lucene does for an OR query), keeps the best $top_k, and
// gives each its cosine to the query vector too, so the fusion has both scores of every candidate.
// `ceiling` is the score no memory can reach (every matched term with an unbounded count): BM25 / ceiling
// lies in [0, 1). One row per cube that exists, in any order.
UNWIND $cube_ids AS cube_id
MATCH (c:MemCube {id: cube_id})
WITH c, cube_id, COUNT { (c)-[:HAS_MEMORY]->() } AS cube_memories
CALL (cube_id, cube_memories) {
  WITH cube_id, cube_memories WHERE cube_memories <= $exact_max
  MATCH (m:Memory)
  WHERE m.cube_id = cube_id AND m.status = 'activated'
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS score
  ORDER BY score DESC, m.id
  LIMIT $top_k
  RETURN collect({memory: m {.*, embedding: null}, score: score}) AS hits
}
CALL (c, cube_id, cube_memories) {
  WITH cube_id, cube_memories AS docs, coalesce(c.term_total, 0) AS total
  UNWIND CASE WHEN docs > 0 THEN range(0, size($terms) - 1) ELSE [] END AS position
  MATCH (t:Term {cube_id: cube_id, term: $terms[position]})
  WITH docs, total, position, t, COUNT { (t)<-[:HAS_TERM]-() } AS df
  WHERE df > 0
  WITH position, t, log(1.0 + (docs - df + 0.5) / (df + 0.5)) AS idf, toFloat(total) / docs AS average_length
  ORDER BY position
  RETURN collect({term: t, idf: idf, average_length: average_length}) AS matched
}
CALL (matched) {
  UNWIND matched AS entry
  WITH entry.term AS t, entry.idf AS idf, entry.average_length AS average_length
  MATCH (t)<-[p:HAS_TERM]-(m:Memory)
  WITH m, idf * p.tf * ($k1 + 1.0) / (p.tf + $k1 * (1.0 - $b + $b * p.dl / average_length)) AS part
  WITH m, sum(part) AS score
  WHERE m.status = 'activated'
  ORDER BY score DESC, m.id
  LIMIT $top_k
  RETURN collect({memory: m {.*, embedding: null}, score: score,
                  similarity: vector.similarity.cosine(m.embedding, $vector)}) AS text_hits
}
RETURN cube_id, cube_memories, COUNT { (:Memory) } AS total_memories, hits,
       reduce(s = 0.0, entry IN matched | s + entry.idf) * ($k1 + 1.0) AS ceiling, text_hits

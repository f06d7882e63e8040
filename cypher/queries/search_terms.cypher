// BM25 of one cube with that cube's own statistics only: N is the cube's memory count (a degree lookup),
// the average length its running total over N, a term's df the degree of the cube's :Term node. Nothing
// another cube holds enters the score, so no other tenant can move this ranking. Scores every memory that
// shares a term with the query (as Lucene does for an OR query), keeps the best $limit, and gives each its
// cosine to the query vector too, so the fusion has both scores of every candidate. `ceiling` is the
// score no memory can reach (every matched term with an unbounded count): BM25 / ceiling lies in [0, 1).
MATCH (c:MemCube {id: $cube_id})
WITH COUNT { (c)-[:HAS_MEMORY]->() } AS docs, coalesce(c.term_total, 0) AS total
WHERE docs > 0
UNWIND range(0, size($terms) - 1) AS position
MATCH (t:Term {cube_id: $cube_id, term: $terms[position]})
WITH docs, total, position, t, COUNT { (t)<-[:HAS_TERM]-() } AS df
WHERE df > 0
WITH docs, toFloat(total) / docs AS average_length, position, t,
     log(1.0 + (docs - df + 0.5) / (df + 0.5)) AS idf
ORDER BY position
WITH average_length, collect({term: t, idf: idf}) AS matched
CALL (average_length, matched) {
  UNWIND matched AS entry
  WITH entry.term AS t, entry.idf AS idf, average_length
  MATCH (t)<-[p:HAS_TERM]-(m:Memory)
  WITH m, idf * p.tf * ($k1 + 1.0) / (p.tf + $k1 * (1.0 - $b + $b * p.dl / average_length)) AS part
  WITH m, sum(part) AS score
  WHERE m.status = 'activated'
  ORDER BY score DESC, m.id
  LIMIT $limit
  RETURN collect({memory: m {.*, embedding: null}, score: score,
                  similarity: vector.similarity.cosine(m.embedding, $vector)}) AS hits
}
RETURN reduce(s = 0.0, entry IN matched | s + entry.idf) * ($k1 + 1.0) AS ceiling, hits

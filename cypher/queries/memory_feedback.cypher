// Pseudo-relevance feedback's second query over one cube's candidates (ranking/feedback.py): each given term
// ({term, weight}: its weight before idf) gets the cube's idf, the $expansion_terms weightiest make the query
// (weights summing to 1), and each candidate ($memory_ids) holding one of them is scored by BM25 as the
// search statement scores (the cube's own document frequencies and average length, $k1, $b).
MATCH (c:MemCube {id: $cube_id})
WITH c, COUNT { (c)-[:HAS_MEMORY]->() } AS docs, coalesce(c.term_total, 0) AS total
WHERE docs > 0
UNWIND $terms AS entry
MATCH (t:Term {cube_id: c.id, term: entry.term})
WITH docs, total, t, entry.weight AS before_idf, COUNT { (t)<-[:HAS_TERM]-() } AS df
WHERE df > 0
WITH docs, total, t, log(1.0 + (docs - df + 0.5) / (df + 0.5)) AS idf, before_idf
WITH docs, total, t, idf, before_idf * idf AS weight
ORDER BY weight DESC, t.term
LIMIT $expansion_terms
WITH toFloat(total) / docs AS average_length, collect({term: t, idf: idf, weight: weight}) AS chosen
WITH average_length, chosen, reduce(s = 0.0, e IN chosen | s + e.weight) AS weights
WHERE weights > 0
UNWIND chosen AS e
WITH average_length, e.term AS t, e.idf AS idf, e.weight / weights AS share
MATCH (t)<-[p:HAS_TERM]-(m:Memory)
WHERE m.id IN $memory_ids
RETURN m.id AS id,
       sum(share * idf * p.tf * ($k1 + 1.0) / (p.tf + $k1 * (1.0 - $b + $b * p.dl / average_length))) AS score

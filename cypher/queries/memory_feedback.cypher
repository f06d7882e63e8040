// Pseudo-relevance feedback's second query over one cube's candidates (ranking/feedback.py): each given term
// ({term, weight}: its weight before idf) gets the cube's idf, the $expansion_terms weightiest make the query
// (weights summing to 1), and each candidate ($memory_ids) holding one of them is scored by BM25 as the
// search statement scores (the cube's own document frequencies and average length, $k1, $b). The postings are
// read from the candidates' side (each candidate's own terms), so the cost is bounded by the window, not by
// how many memories of the cube hold a chosen term (10,000 memories: 3.1 against 11.5 ms p50 reading the
// terms' postings; bench/results/stages.md).
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
WITH average_length, weights, chosen, [e IN chosen | e.term] AS chosen_terms
UNWIND $memory_ids AS memory_id
MATCH (m:Memory {id: memory_id})-[p:HAS_TERM]->(t:Term)
WHERE t IN chosen_terms
WITH average_length, weights, m, p, [e IN chosen WHERE e.term = t][0] AS e
RETURN m.id AS id,
       sum(e.weight / weights * e.idf * p.tf * ($k1 + 1.0) / (p.tf + $k1 * (1.0 - $b + $b * p.dl / average_length))) AS score

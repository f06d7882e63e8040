// A whole search's first (and, for cubes within the exact-scan size or with their own vector index online,
// usually only) round trip, as the caller:
// - the caller, read fresh ($user_id; no row at all when it does not exist), and its relation to each cube
//   searched: the named $cube_ids, or when $cube_ids is null the active cubes loaded for it;
// - `searched`: whether the caller may read the cube (the rule of services/access.py cube_access, which the
//   service applies again to the returned relation and which a test holds equal to this one) and the cube
//   count stays within $max_cubes; only such cubes are ranked, so no other cube costs any work;
// - per searched cube: its size and the graph's (O(1) each), its exact vector top-k when it holds at most
//   $exact_max memories (a larger cube gets no vector hits here; the caller goes to the vector index;
//   $exact_max -1 skips the scan; a larger cube with its own vector index online gets that index's first
//   request instead, $own_candidates neighbours, so that it costs no round trip of its own), and its BM25
//   ranking of $terms (none: no ranking) with the cube's own statistics only: N is the cube's memory count (a
//   degree lookup), the average length its running total over N, a term's df the degree of the cube's :Term
//   node. Nothing another cube holds enters the score, so no other tenant can move this ranking. BM25 scores
//   every memory that shares a term with the query (as Lucene does for an OR query), keeps the best $top_k,
//   and gives each its cosine to the query vector too, so the fusion has both scores of every candidate.
//   `ceiling` is the score no memory can reach (every matched term with an unbounded count): BM25 / ceiling
//   lies in [0, 1).
// $filter (cypher/fragments/memory_filter.cypher) restricts both rankings before their LIMIT, never after:
// a filtered search still returns $top_k of the cube's matching memories where it holds that many; the
// scores' statistics (N, df, average length) stay the whole cube's.
// One row per cube that exists and is active, in any order; one row with a null cube when there is none.
// Timestamps leave as text (toString): the driver builds its DateTime objects far slower than Python parses.
MATCH (me:User {id: $user_id})
OPTIONAL CALL (me) {
  UNWIND coalesce($cube_ids, []) AS cube_id
  MATCH (c:MemCube {id: cube_id})
  WHERE c.is_active
  RETURN c
  UNION
  WITH me WHERE $cube_ids IS NULL
  MATCH (me)-[:LOADED]->(c:MemCube)
  WHERE c.is_active
  RETURN c
}
OPTIONAL MATCH (owner:User)-[:OWNS]->(c)
OPTIONAL MATCH (c)-[s:SHARED_WITH]->(me)
OPTIONAL MATCH (me)-[l:LOADED]->(c)
WITH me, c, owner, s, l,
     c IS NOT NULL AND coalesce(me.is_active, true) AND CASE me.role
       WHEN 'root' THEN true
       WHEN 'guest' THEN s IS NOT NULL
       ELSE owner = me OR s IS NOT NULL OR me.role = 'admin'
     END AS may_read
WITH me, collect({c: c, owner: owner, s: s, l: l, may_read: may_read}) AS rows
WITH me, rows, size([row IN rows WHERE row.may_read]) AS readable
UNWIND rows AS row
WITH me, row.c AS c, row.owner AS owner, row.s AS s, row.l AS l, row.may_read AND readable <= $max_cubes AS searched
WITH *, CASE WHEN searched THEN COUNT { (c)-[:HAS_MEMORY]->() } ELSE 0 END AS cube_memories
CALL (c, searched, cube_memories) {
  // The cube's key comes out of an UNWIND so that the planner cannot move the size test below the index seek
  // (it did: a cube over $exact_max had every memory sought, then each row dropped).
  UNWIND CASE WHEN searched AND cube_memories <= $exact_max THEN [c.id] ELSE [] END AS scanned
  MATCH (m:Memory)
  WHERE m.cube_id = scanned AND m.status = 'activated' AND {{memory_filter m}}
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS score
  ORDER BY score DESC, m.id
  LIMIT $top_k
  RETURN collect({memory: m {.*, embedding: null, created_at: toString(m.created_at),
                             updated_at: toString(m.updated_at)}, score: score}) AS hits
}
CALL (c, searched, cube_memories) {
  // A cube above the exact-scan size whose own vector index is online (its name on the cube, `vector_index`,
  // recorded by graph/cube_index.py) is asked here for $own_candidates neighbours, the first request the
  // caller would otherwise send in a round trip of its own (search_index.cypher, the same filter and order);
  // $own_candidates 0 leaves it to the caller. Too few surviving hits: the caller asks again, for more.
  UNWIND CASE WHEN searched AND cube_memories > $exact_max AND $own_candidates > 0 AND c.vector_index IS NOT NULL
              THEN [c.vector_index] ELSE [] END AS own_index
  CALL db.index.vector.queryNodes(own_index, $own_candidates, $vector) YIELD node, score
  WHERE node.cube_id = c.id AND node.status = 'activated' AND {{memory_filter node}}
  WITH node, score
  ORDER BY score DESC, node.id
  LIMIT $top_k
  RETURN collect({memory: node {.*, embedding: null, created_at: toString(node.created_at),
                                updated_at: toString(node.updated_at)}, score: score}) AS index_hits
}
CALL (c, searched, cube_memories) {
  WITH c, cube_memories AS docs, coalesce(c.term_total, 0) AS total
  UNWIND CASE WHEN searched AND docs > 0 THEN range(0, size($terms) - 1) ELSE [] END AS position
  MATCH (t:Term {cube_id: c.id, term: $terms[position]})
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
  WHERE m.status = 'activated' AND {{memory_filter m}}
  ORDER BY score DESC, m.id
  LIMIT $top_k
  RETURN collect({memory: m {.*, embedding: null, created_at: toString(m.created_at),
                             updated_at: toString(m.updated_at)},
                  score: score, similarity: vector.similarity.cosine(m.embedding, $vector)}) AS text_hits
}
RETURN me {.id, .name, .role, .is_active, created_at: toString(me.created_at)} AS user,
       c {.*, created_at: toString(c.created_at)} AS cube, owner.id AS owner_id, s.permission AS shared_permission,
       l IS NOT NULL AS is_loaded, toString(l.since) AS loaded_since, searched, cube_memories,
       CASE WHEN searched THEN COUNT { (:Memory) } ELSE 0 END AS total_memories, hits, index_hits,
       reduce(sum_idf = 0.0, entry IN matched | sum_idf + entry.idf) * ($k1 + 1.0) AS ceiling, text_hits

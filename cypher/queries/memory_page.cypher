// A page of a cube's memories that pass $filter, ordered by {{order_key}} then id, after the cursor
// ($after_key: the order key as Neo4j's text of it, $after_id; both null for the first page, which leaves
// the page_after fragment out): keyset pagination, so memories added or deleted meanwhile never shift a page,
// the index seek (memory_cube_created, memory_cube_updated) starting at the cursor. $limit rows at most (ask
// one more than the page to learn whether another follows), with whether any passing memory lies at or
// before the cursor (hasPreviousPage). Timestamps as text.
// choice order_key: created_at | updated_at
// choice direction: ASC | DESC
// choice after: > | <
CALL () {
  MATCH (m:Memory)
  WHERE m.cube_id = $cube_id AND m.{{order_key}} IS NOT NULL AND {{memory_filter m}} AND {{page_after m}}
  WITH m
  ORDER BY m.{{order_key}} {{direction}}, m.id {{direction}}
  LIMIT $limit
  RETURN collect(m {.*, embedding: null, created_at: toString(m.created_at), updated_at: toString(m.updated_at),
                    order_key: toString(m.{{order_key}})}) AS memories
}
CALL () {
  OPTIONAL MATCH (p:Memory)
  WHERE $after_key IS NOT NULL AND p.cube_id = $cube_id AND p.{{order_key}} IS NOT NULL AND {{memory_filter p}}
    AND NOT (p.{{order_key}} {{after}} datetime($after_key)
             OR (p.{{order_key}} = datetime($after_key) AND p.id {{after}} $after_id))
  WITH p LIMIT 1
  RETURN p IS NOT NULL AS has_previous
}
RETURN memories, has_previous

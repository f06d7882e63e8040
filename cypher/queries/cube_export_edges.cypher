// Dump: every edge that starts at a node of the cube. Memories and versions are named by id, messages and
// documents by key; `related_type` is the original type of a RELATED_TO edge imported from MemOS.
CALL () {
  MATCH (s:Memory)-[r:DERIVED_FROM|RELATED_TO]->(t)
  WHERE s.cube_id = $cube_id AND s.created_at IS NOT NULL
  RETURN s, r, t
  UNION ALL
  MATCH (s:MemoryVersion)-[r:DERIVED_FROM]->(t)
  WHERE s.cube_id = $cube_id
  RETURN s, r, t
  UNION ALL
  MATCH (s:Message)-[r:NEXT]->(t)
  WHERE s.cube_id = $cube_id AND s.key IS NOT NULL
  RETURN s, r, t
}
RETURN CASE WHEN s:Memory THEN 'memory' WHEN s:MemoryVersion THEN 'version' ELSE 'message' END AS source_kind,
       CASE WHEN s:Message THEN s.key ELSE s.id END AS source,
       CASE WHEN t:Memory THEN 'memory' WHEN t:MemoryVersion THEN 'version' WHEN t:Message THEN 'message'
            WHEN t:Document THEN 'document' END AS target_kind,
       CASE WHEN t:Message OR t:Document THEN t.key ELSE t.id END AS target,
       type(r) AS type, r.type AS related_type, r.at AS at

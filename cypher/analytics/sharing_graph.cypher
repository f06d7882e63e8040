// Who can read whose cubes: one row per active reader and active cube it may read.
// access is 'owner' (OWNS), 'read' or 'write' (the SHARED_WITH permission), or, when $include_admins is
// true, 'admin' for ROOT and ADMIN users, who read every cube without an edge saying so. Inactive users
// and inactive cubes are left out, as the service refuses them.
//
// Parameters:
//   $user_id: string or null, one reader's id; null lists every active user.
//   $include_admins: boolean, add the implicit 'admin' rows. Usually false: with it every ROOT and ADMIN
//                    user gets a row for every cube in the graph.
// Returns: reader_id, reader_role, cube_id, cube_name, owner_id, access ('owner' | 'read' | 'write' |
//   'admin'), ordered by reader_id, cube_id.
// Index: none needed. It starts from the :User nodes (a label scan; users are few) and walks each
//   reader's OWNS and SHARED_WITH edges; only the 'admin' rows scan :MemCube.
MATCH (reader:User)
WHERE reader.is_active AND ($user_id IS NULL OR reader.id = $user_id)
CALL (reader) {
  MATCH (reader)-[:OWNS]->(c:MemCube)
  RETURN c, 'owner' AS access
  UNION
  MATCH (c:MemCube)-[s:SHARED_WITH]->(reader)
  RETURN c, s.permission AS access
  UNION
  MATCH (c:MemCube)
  WHERE $include_admins AND reader.role IN ['root', 'admin']
    AND NOT (reader)-[:OWNS]->(c) AND NOT (c)-[:SHARED_WITH]->(reader)
  RETURN c, 'admin' AS access
}
WITH reader, c, access
WHERE c.is_active
MATCH (owner:User)-[:OWNS]->(c)
RETURN reader.id AS reader_id, reader.role AS reader_role, c.id AS cube_id, c.name AS cube_name,
       owner.id AS owner_id, access
ORDER BY reader_id, cube_id;

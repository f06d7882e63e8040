// Import, last step: the caller owns the cube (if it is new) and has it loaded; the import marker goes.
// Runs after cube_import_hold in the same transaction (which locked the cube and checked the marker).
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
MATCH (u:User {id: $owner_id})
CALL (c, u) {
  WITH c, u WHERE NOT EXISTS { ()-[:OWNS]->(c) }
  CREATE (u)-[:OWNS]->(c)
}
MERGE (u)-[l:LOADED]->(c)
ON CREATE SET l.since = datetime()
REMOVE c.import_id, c.import_by, c.import_started_at, c.import_lease_until, c.import_leftovers
RETURN c.id AS id

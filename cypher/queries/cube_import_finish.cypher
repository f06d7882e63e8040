// Import, last step: the caller owns the cube (if it is new) and has it loaded; the import marker goes.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
MATCH (u:User {id: $owner_id})
CALL (c, u) {
  WITH c, u WHERE NOT EXISTS { ()-[:OWNS]->(c) }
  CREATE (u)-[:OWNS]->(c)
}
MERGE (u)-[l:LOADED]->(c)
ON CREATE SET l.since = datetime()
REMOVE c.import_id, c.import_started_at
RETURN c.id AS id

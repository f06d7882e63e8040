// A cube's owner and whether it is active, whatever its state (a deletion that stopped half-way leaves an
// inactive cube that only its owner or ROOT may finish deleting). No row: no such cube.
MATCH (owner:User)-[:OWNS]->(c:MemCube {id: $cube_id})
RETURN owner.id AS owner_id, c.is_active AS is_active

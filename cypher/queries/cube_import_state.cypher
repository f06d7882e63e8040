// Import: what a cube id names already: its owner, a running (or crashed) import (its id, who runs it, its
// start time and lease; a marker from before leases counts from its start time), whether it holds memories.
MATCH (c:MemCube {id: $cube_id})
OPTIONAL MATCH (owner:User)-[:OWNS]->(c)
WITH c, owner,
     coalesce(c.import_lease_until, c.import_started_at + duration({seconds: $lease_s})) AS lease_until
RETURN owner.id AS owner_id, c.import_id AS import_id, c.import_by AS import_by, c.import_leftovers AS leftovers,
       EXISTS { (c)-[:HAS_MEMORY]->() } AS has_memories, c.import_started_at AS started_at, lease_until,
       c.import_id IS NOT NULL AND coalesce(lease_until > datetime(), false) AS lease_live

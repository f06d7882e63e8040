// Last step of deleting a cube: the cube node itself, with its OWNS edge.
MATCH (c:MemCube {id: $cube_id})
DETACH DELETE c
RETURN count(*) AS deleted

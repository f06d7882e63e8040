// Detach a cube from a user's loaded cubes; the cube and its memories stay.
MATCH (:User {id: $user_id})-[l:LOADED]->(:MemCube {id: $cube_id})
DELETE l
RETURN count(l) AS removed

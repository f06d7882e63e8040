// Each cube's shares: the user, the permission and since when (MemCube.sharedWith).
UNWIND $cube_ids AS cube_id
MATCH (:MemCube {id: cube_id})-[s:SHARED_WITH]->(u:User)
WITH cube_id, u, s
ORDER BY u.id
RETURN cube_id, collect({user_id: u.id, permission: s.permission, since: toString(s.since)}) AS shares

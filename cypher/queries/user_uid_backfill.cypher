// Give users created before uids existed their immutable uid (what a dump's manifest names).
// Takes no parameters: it concerns every user.
MATCH (u:User)
WHERE u.uid IS NULL
SET u.uid = randomUUID()

// Whether any user holds the role (bootstrap: is there a ROOT already).
MATCH (u:User {role: $role})
RETURN u.id AS id
LIMIT 1

// Create a cube (graph/models.py's MemCubeNode declares its properties) owned by its owner and loaded for
// it, in one statement; the id's uniqueness constraint refuses a taken id. No row: no such owner.
MATCH (owner:User {id: $owner_id})
CREATE (owner)-[:OWNS]->(c:MemCube {id: $cube_id, name: $cube_name, path: $path, created_at: datetime(),
                                     is_active: true, embedding_model: $embedding_model,
                                     embedding_dim: $embedding_dim})
CREATE (owner)-[:LOADED {since: datetime()}]->(c)
RETURN c {.*} AS cube, owner.id AS owner_id

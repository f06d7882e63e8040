// Wait up to $seconds for the index named $name (a cube's own vector index) to come online.
CALL db.awaitIndex($name, $seconds)

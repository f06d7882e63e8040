// Wait up to $seconds for every index to come online (population after a create or rebuild).
CALL db.awaitIndexes($seconds)

// Migration (data version 2): give one cube's memories that lack it their cube_key, $key, in inner
// transactions (run in an auto-commit transaction).
MATCH (m:Memory {cube_id: $cube_id})
WHERE m.cube_key IS NULL
CALL (m) { SET m.cube_key = $key } IN TRANSACTIONS OF 10000 ROWS

// Step 2 (graph/cube_index.py): every memory of the cube without the cube's label gets it, 5,000 per
// transaction (auto-commit: CALL ... IN TRANSACTIONS). The label is a parameter (a dynamic label).
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory)
WHERE NOT $label IN labels(m)
CALL (m) {
  SET m:$($label)
} IN TRANSACTIONS OF 5000 ROWS

// Store re-embedded vectors (memos_graph/maintenance.py): one transaction per page.
UNWIND $rows AS row
MATCH (m:Memory {id: row.id})
CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
RETURN count(m) AS written

// Import: which of these memory or version ids the graph already holds (in any cube). Nodes that crashed
// imports left in the target cube ($leftover_import_ids, deleted before the import writes) do not count.
UNWIND $ids AS id
OPTIONAL MATCH (m:Memory {id: id})
OPTIONAL MATCH (v:MemoryVersion {id: id})
WITH id, [n IN [m, v] WHERE n IS NOT NULL
          AND NOT coalesce(n.cube_id = $cube_id AND n.import_id IN $leftover_import_ids, false)] AS held
WITH id WHERE size(held) > 0
RETURN id

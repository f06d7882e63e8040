// Import: which of these memory or version ids the graph already holds (in any cube).
UNWIND $ids AS id
OPTIONAL MATCH (m:Memory {id: id})
OPTIONAL MATCH (v:MemoryVersion {id: id})
WITH id WHERE m IS NOT NULL OR v IS NOT NULL
RETURN id

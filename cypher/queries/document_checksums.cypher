// Checksums of a cube's documents, by key (the resolved path).
MATCH (d:Document {cube_id: $cube_id})
WHERE d.key IN $keys
RETURN d.key AS key, d.checksum AS checksum

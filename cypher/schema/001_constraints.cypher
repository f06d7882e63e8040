// Uniqueness on every id. (Memory.cube_id, Memory.content_hash) makes the same text in the same cube
// one node even under concurrent adds: MERGE on it cannot create a duplicate.
CREATE CONSTRAINT user_id_unique IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE;
CREATE CONSTRAINT cube_id_unique IF NOT EXISTS FOR (c:MemCube) REQUIRE c.id IS UNIQUE;
CREATE CONSTRAINT memory_id_unique IF NOT EXISTS FOR (m:Memory) REQUIRE m.id IS UNIQUE;
CREATE CONSTRAINT memory_content_unique IF NOT EXISTS FOR (m:Memory) REQUIRE (m.cube_id, m.content_hash) IS UNIQUE;
CREATE CONSTRAINT memory_version_id_unique IF NOT EXISTS FOR (v:MemoryVersion) REQUIRE v.id IS UNIQUE;
CREATE CONSTRAINT user_uid_unique IF NOT EXISTS FOR (u:User) REQUIRE u.uid IS UNIQUE;
CREATE CONSTRAINT user_api_key_hash_unique IF NOT EXISTS FOR (u:User) REQUIRE u.api_key_hash IS UNIQUE;
CREATE CONSTRAINT message_key_unique IF NOT EXISTS FOR (m:Message) REQUIRE (m.cube_id, m.key) IS UNIQUE;
CREATE CONSTRAINT chat_turn_id_unique IF NOT EXISTS FOR (t:ChatTurn) REQUIRE t.id IS UNIQUE;
CREATE CONSTRAINT document_key_unique IF NOT EXISTS FOR (d:Document) REQUIRE (d.cube_id, d.key) IS UNIQUE;
// One :Term node per (cube, term): the per-cube BM25 index's vocabulary (its degree is the term's df).
CREATE CONSTRAINT term_cube_unique IF NOT EXISTS FOR (t:Term) REQUIRE (t.cube_id, t.term) IS UNIQUE;

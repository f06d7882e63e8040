// Range indexes on what queries filter and sort by. Memory.cube_id keeps the exact per-cube vector
// scan and per-cube listing proportional to the cube, not to the graph.
CREATE INDEX memory_cube_status IF NOT EXISTS FOR (m:Memory) ON (m.cube_id, m.status);
CREATE INDEX memory_cube_created IF NOT EXISTS FOR (m:Memory) ON (m.cube_id, m.created_at);
CREATE INDEX memory_cube_updated IF NOT EXISTS FOR (m:Memory) ON (m.cube_id, m.updated_at);
CREATE INDEX memory_created_at IF NOT EXISTS FOR (m:Memory) ON (m.created_at);
// A memory's history is read by (cube_id, memory_id), newest version first, never by walking DERIVED_FROM
// (an imported version graph may branch, and a walk enumerates its paths): the seek is confined to the cube,
// so versions another cube's import claims for the same memory id cost nothing here.
CREATE INDEX memory_version_history IF NOT EXISTS FOR (v:MemoryVersion) ON (v.cube_id, v.memory_id, v.version);
// It replaces the single-property index on memory_id, which no statement reads any more.
DROP INDEX memory_version_memory_id IF EXISTS;
CREATE INDEX user_role IF NOT EXISTS FOR (u:User) ON (u.role);
CREATE INDEX cube_created_at IF NOT EXISTS FOR (c:MemCube) ON (c.created_at);
CREATE INDEX chat_turn_user_session IF NOT EXISTS FOR (t:ChatTurn) ON (t.user_id, t.session_id, t.created_at);
CREATE INDEX memory_version_cube IF NOT EXISTS FOR (v:MemoryVersion) ON (v.cube_id);

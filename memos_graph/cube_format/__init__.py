"""The cube-directory format MemOS reads and writes (mos-api.md section 5), in one place.

- entries.py: the two forms of textual_memory.json, parsed and checked entry by entry, and config.json;
- reader.py: textual_memory.json streamed in passes of constant memory;
- writer.py: a dump written from a cube snapshot, config.json and the dump manifest.

It knows files and JSON, not the graph: services hand it domain values (memos_graph/domain/cube_content.py).
"""

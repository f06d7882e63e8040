"""The MemOS seed's first example (MOS API doc, "使用样例"), adapted to memos-graph.

What changed from MemOS's script: the two import lines; `apply_schema=True`, so the script also runs on a fresh
graph (it creates the constraints and indexes once; idempotent); and the data paths, taken next to this file
so the script runs from any directory. `examples/data/` holds a MemOS config (simple_memos_config.json's shape)
and a general_text cube as MemOS ships mem_cube_2 (its vectors come from another model, so the texts are
embedded again on import).

The connection comes from the environment, which overrides the config file: NEO4J_URI, NEO4J_USER,
NEO4J_PASSWORD (`source scripts/env.sh` sets them for the local Neo4j). Run:

    python examples/memos_quickstart.py

Each run makes a new user; the first run's user gets the cube's own id (Ki-Seki/mem_cube_2), every later
one a copy of its own (Ki-Seki/mem_cube_2@<user id>). tests/examples/test_examples.py runs it.
"""

import uuid
from pathlib import Path

from memos_graph import MOS, MOSConfig

DATA = Path(__file__).resolve().parent / "data"

# 初始化MOS
mos_config = MOSConfig.from_json_file(str(DATA / "config" / "simple_memos_config.json"))
memory = MOS(mos_config, apply_schema=True)

# 创建用户
user_id = str(uuid.uuid4())
memory.create_user(user_id=user_id)

# 为用户注册记忆立方
memory.register_mem_cube(str(DATA / "mem_cube_2"), user_id=user_id)

# 为用户添加记忆
memory.add(
    messages=[
        {"role": "user", "content": "I like playing football."},
        {"role": "assistant", "content": "I like playing football too."},
    ],
    user_id=user_id,
)
# 之后，当您想为用户检索记忆时
retrieved_memories = memory.search(query="What do you like?", user_id=user_id)
# 输出明文记忆: I like playing football, act_memories, para_memories
print(f"text_memories: {retrieved_memories['text_mem']}")
memory.close()

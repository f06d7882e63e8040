// Link consecutive messages of a conversation: (earlier)-[:NEXT]->(later), once per pair.
UNWIND $pairs AS pair
MATCH (a:Message {cube_id: $cube_id, key: pair[0]}), (b:Message {cube_id: $cube_id, key: pair[1]})
MERGE (a)-[:NEXT]->(b)
RETURN count(*) AS linked

// Vector and fulltext indexes over memory text. $dimension, $quantization and $fulltext_analyzer come from
// the configuration, never from user input; existing indexes are checked against them at start-up.
CREATE VECTOR INDEX memory_embedding IF NOT EXISTS FOR (m:Memory) ON m.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dimension, `vector.similarity_function`: 'cosine',
                       `vector.quantization.enabled`: $quantization}};
// cube_key (the cube id, hex-encoded) lets Lucene restrict a query to one cube before ranking.
CREATE FULLTEXT INDEX memory_text IF NOT EXISTS FOR (m:Memory) ON EACH [m.memory, m.cube_key]
OPTIONS {indexConfig: {`fulltext.analyzer`: $fulltext_analyzer}};

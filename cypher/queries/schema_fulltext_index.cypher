// The options (analyzer) and properties of the fulltext index named $name, no row when it does not exist.
SHOW FULLTEXT INDEXES YIELD name, options, properties
WHERE name = $name
RETURN options, properties

"""Neo4j access: driver lifecycle, schema, named queries, one repository per aggregate."""

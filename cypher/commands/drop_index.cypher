// Drop an index by name (re-runnable). An index name cannot be a parameter: `{{index}}` is filled by
// queries.command, which takes only a declared identifier of letters, digits and underscores (callers pass
// constant names or the digest names graph/cube_index.py gives a cube's own index).
// identifier index
DROP INDEX {{index}} IF EXISTS

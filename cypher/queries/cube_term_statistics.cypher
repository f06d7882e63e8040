// How many of one cube's memories hold each of the given terms (a per-cube :Term node's degree, as BM25's
// document frequency in search_cubes_hybrid.cypher); terms the cube does not hold are absent.
UNWIND $terms AS term
MATCH (t:Term {cube_id: $cube_id, term: term})
RETURN term, COUNT { (t)<-[:HAS_TERM]-() } AS df

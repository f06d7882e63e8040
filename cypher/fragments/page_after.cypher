// A listing's rows after the cursor ($after_key, Neo4j's text of the order key, and $after_id) in the
// listing's order, for `__m__`: the first line is a range the index seek can take, the rest breaks ties by id.
__m__.{{order_key}} {{after}}= datetime($after_key)
AND (__m__.{{order_key}} {{after}} datetime($after_key) OR __m__.id {{after}} $after_id)

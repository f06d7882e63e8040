// The search and listing filter (memos_graph.domain.filters.MemoryFilter.parameters(), passed as $filter) on
// the memory bound to `__m__`: each condition holds when its key is null. Included in a query by
// `{{memory_filter <variable>}}` (memos_graph/graph/queries.py); lists match any of their values, except tags_all.
($filter.memory_types IS NULL OR __m__.memory_type IN $filter.memory_types)
AND ($filter.types IS NULL OR __m__.type IN $filter.types)
AND ($filter.sources IS NULL OR __m__.source IN $filter.sources)
AND ($filter.session_ids IS NULL OR __m__.session_id IN $filter.session_ids)
AND ($filter.statuses IS NULL OR __m__.status IN $filter.statuses)
AND ($filter.tags_any IS NULL OR any(tag IN $filter.tags_any WHERE tag IN __m__.tags))
AND ($filter.tags_all IS NULL OR all(tag IN $filter.tags_all WHERE tag IN __m__.tags))
AND ($filter.created_from IS NULL OR __m__.created_at >= $filter.created_from)
AND ($filter.created_before IS NULL OR __m__.created_at < $filter.created_before)
AND ($filter.updated_from IS NULL OR __m__.updated_at >= $filter.updated_from)
AND ($filter.updated_before IS NULL OR __m__.updated_at < $filter.updated_before)
AND ($filter.time_from IS NULL OR __m__.event_end > $filter.time_from)
AND ($filter.time_before IS NULL OR __m__.event_start < $filter.time_before)
AND ($filter.text_contains IS NULL OR toLower(__m__.memory) CONTAINS $filter.text_contains)

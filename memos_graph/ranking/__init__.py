"""Pure ranking logic: text analysis, BM25 with per-cube statistics, fusion of rankings into 0..1 scores."""

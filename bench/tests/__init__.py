"""The benchmarks' own code under test: LoCoMo parsing and cross-validation, the load runner's workers."""

"""The sections of MOSConfig, by group; code takes them from memos_graph.config, which builds the whole."""

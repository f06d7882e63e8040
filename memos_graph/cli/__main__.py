"""python -m memos_graph.cli: the same as the memos-graph console script."""

from memos_graph.cli import main

raise SystemExit(main())

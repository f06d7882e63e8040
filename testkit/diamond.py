"""The security probe's fragment "diamond" (2026-12, H2), shared by the tests and bench/bench_diamond.py."""

from __future__ import annotations


def diamond(levels: int, leaf: str = "__typename") -> str:
    """A query whose fragments each spread both fragments of the next level: `levels` levels, 2^levels paths
    to the leaf field, in about 80 characters a level."""
    parts = ["query { ...L0a ...L0b }"]
    for level in range(levels):
        for side in "ab":
            body = leaf if level == levels - 1 else f"...L{level + 1}a ...L{level + 1}b"
            parts.append(f"fragment L{level}{side} on Query {{ {body} }}")
    return "\n".join(parts)

"""Embedding model names as configs and cube directories spell them, made comparable."""

from __future__ import annotations


def normalise_model_name(name: str | None) -> str | None:
    """A model name comparable across configs: no hub organisation, no tag, lower case."""
    if not name:
        return None
    base = name.strip().rstrip("/").rsplit("/", 1)[-1]
    return base.split(":", 1)[0].lower() or None

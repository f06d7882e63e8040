"""Write the schema's SDL to graphql_schema/schema.graphql: python -m graphql_schema.export_sdl."""

from __future__ import annotations

from pathlib import Path

from graphql_schema.schema import sdl


def main() -> None:
    """Overwrite the committed SDL with the code's."""
    path = Path(__file__).resolve().parent / "schema.graphql"
    path.write_text(sdl())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

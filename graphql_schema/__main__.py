"""Serve the GraphQL API with uvicorn: python -m graphql_schema [--host 127.0.0.1] [--port 8000]."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from graphql_schema.app import create_app
from memos_graph.config import MOSConfig
from memos_graph.logs import configure_logging


def main() -> None:
    """Parse arguments, build the app from the config (file + environment), serve it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", help="MOSConfig JSON file (environment overrides apply)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    config = MOSConfig.load(args.config)
    configure_logging(config.logs.format)
    if config.root_api_key is None:
        logging.warning("no root API key configured (MEMOS_ROOT_API_KEY): the root user cannot call the API")
    # log_config=None: uvicorn's lines (start-up, access log, errors) go through the handler configured above,
    # in the same format and with the request id, instead of uvicorn's own handlers.
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info", log_config=None)


if __name__ == "__main__":
    main()

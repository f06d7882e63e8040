"""Settings of the service's connections and doors: Neo4j, the HTTP server towards browsers, log lines and who
may read /metrics."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from memos_graph.settings.section import Section

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")


class Neo4jSettings(Section):
    """How to reach Neo4j, and how long to wait for it."""

    uri: str = "bolt://127.0.0.1:7687"
    user: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"
    connection_timeout_s: float = Field(default=5.0, gt=0)
    acquisition_timeout_s: float = Field(default=10.0, gt=0)
    transaction_timeout_s: float = Field(default=60.0, gt=0)
    max_retry_time_s: float = Field(default=5.0, ge=0)
    # The GraphQL server answers UNAVAILABLE when a call has waited this long for Neo4j (plus the chat
    # model's timeouts for calls that use it). Without it a hung (not down) Neo4j holds a call until the
    # Bolt receive timeout the server hints at (120 s by default), and the worker threads with it.
    call_deadline_s: float = Field(default=30.0, gt=0)


class HTTPSettings(Section):
    """The GraphQL server's HTTP behaviour towards browsers."""

    # Origins (scheme://host[:port]) whose pages may call the API from a browser (CORS). Empty, the default:
    # none may; a browser on another origin cannot read any answer. MEMOS_CORS_ORIGINS: comma-separated.
    cors_origins: tuple[str, ...] = ()
    # How long a browser may cache a preflight's answer.
    cors_max_age_s: int = Field(default=600, ge=0, le=86_400)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"CORS origin {origin!r} must be scheme://host[:port] with no path (and not '*': name the "
                    "origins that may call the API)"
                )
        return origins


class LogSettings(Section):
    """How the servers (GraphQL, MCP over HTTP) write their log lines."""

    # "text": one line of words per record, `time level logger [request id]: message` (the default).
    # "json": one JSON object a line (time, level, logger, message, request_id; exception when there is one),
    # for log collectors. memos_graph/logs.py.
    format: Literal["text", "json"] = "text"


class MetricsSettings(Section):
    """Who may read /metrics (GraphQL and MCP over HTTP): a ROOT or ADMIN API key always; also this token, when set
    (MEMOS_METRICS_TOKEN), sent as `Authorization: Bearer <token>`, so that a Prometheus scraper needs no user's key.
    The metrics name user ids (chat-model use per user), so nobody else may read them."""

    scrape_token: SecretStr | None = None

    @field_validator("scrape_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 16:
            raise ValueError("metrics.scrape_token must be at least 16 characters (a random string)")
        return token

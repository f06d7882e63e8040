"""Which media type a GraphQL response is sent in (GraphQL over HTTP: application/graphql-response+json).

With application/graphql-response+json the status code carries meaning: a request error (the document does
not parse or validate, a variable does not coerce, a limit refuses it: nothing executed, so the response has
no `data`) is 400, while a response with `data` (null included, field errors included) is 200. With
application/json, the legacy type, every GraphQL answer is 200, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
# application/json is the default: a wildcard (fetch sends */* unless told otherwise) or no Accept at all
# keeps today's answers; the new type is only chosen when the client names it.
_JSON_RANGES = {APPLICATION_JSON: 2, "application/*": 1, "*/*": 0}  # more specific ranges win


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the Accept header names it and ranks it above application/json
    (by q-value, then by which comes first), else application/json."""
    graphql_rank: tuple[float, int] | None = None
    json_rank: tuple[float, int] | None = None
    json_specificity = -1
    for position, (media_range, quality) in enumerate(_ranges(accept or "")):
        if media_range == GRAPHQL_RESPONSE_JSON:
            graphql_rank = (quality, -position)
        elif _JSON_RANGES.get(media_range, -1) > json_specificity:
            json_specificity = _JSON_RANGES[media_range]
            json_rank = (quality, -position)
    if graphql_rank is None or graphql_rank[0] <= 0:
        return APPLICATION_JSON
    if json_rank is None or json_rank[0] <= 0 or graphql_rank > json_rank:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON


def _ranges(accept: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values (1 when absent, 0 when unreadable)."""
    ranges = []
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        if not media_range:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        ranges.append((media_range.lower(), quality))
    return ranges


def is_request_error(data: object, errors: Sequence[Any] | None) -> bool:
    """Whether an execution result is a request error: no data and only errors located at no field.

    Field errors always carry a path (graphql-core sets it); parse, validation, variable coercion errors and
    the limits' refusals (raised before execution) carry none.
    """
    return data is None and bool(errors) and all(getattr(error, "path", None) is None for error in errors or ())


def content_type(media_type: str) -> str:
    """The Content-Type header value for a media type (JSON is always UTF-8)."""
    return f"{media_type}; charset=utf-8"


def without_data(body: Mapping[str, Any]) -> dict[str, Any]:
    """A response body without its `data` entry (a request error sent as application/graphql-response+json)."""
    return {name: value for name, value in body.items() if name != "data"}

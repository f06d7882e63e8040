"""Who may read the metrics: the configured scrape token, or a ROOT or ADMIN API key (metrics name user ids)."""

from __future__ import annotations

import hmac

from memos_graph.config import MetricsSettings
from memos_graph.errors import AccessDenied
from memos_graph.services.access import is_privileged
from memos_graph.services.auth_throttle import KeyCheck


async def authorize_scrape(
    key_check: KeyCheck, settings: MetricsSettings, token: str | None, address: str | None
) -> None:
    """Return when the bearer token may read /metrics: Unauthenticated for none or a wrong one (a wrong one spends
    the address's budget of failed keys like any other guess; TooManyAttempts once spent), AccessDenied for the
    key of a USER or GUEST."""
    expected = settings.scrape_token
    if expected is not None and token and hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        return
    user = await key_check.authenticate(token, address)
    if not is_privileged(user):
        raise AccessDenied("the metrics may be read with a ROOT or ADMIN API key or the scrape token only")

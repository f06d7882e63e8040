"""The services behind the GraphQL app: started with it (schema applied, model loaded once), closed with it."""

from __future__ import annotations

from graphql_schema.refusals import RefusedDocuments
from memos_graph.config import MOSConfig
from memos_graph.errors import BackendUnavailable
from memos_graph.services.auth_throttle import FailedAuthThrottle, KeyCheck
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services, Started, start_services
from memos_graph.workers import WorkerPool


class ServiceHolder:
    """The services, created at start-up (schema applied, model loaded once) and closed at shutdown."""

    def __init__(
        self,
        config: MOSConfig | None,
        runtime: Runtime | None,
        throttle: FailedAuthThrottle | None = None,
        refused: RefusedDocuments | None = None,
    ) -> None:
        self._config = config
        self._runtime = runtime
        self._started: Started | None = None
        self._pool: WorkerPool | None = None
        limits = (runtime.config if runtime is not None else config or MOSConfig.load()).limits
        # One budget of failed keys per client address for the whole app: HTTP and WebSocket alike.
        self.key_check = KeyCheck(self.get, FailedAuthThrottle.of(limits) if throttle is None else throttle)
        # One budget of refused documents per caller for the whole app, HTTP and WebSocket alike.
        self.refused = RefusedDocuments.of(limits) if refused is None else refused

    def pool(self) -> WorkerPool | None:
        """The worker pool resolvers run their service calls on (made at start-up)."""
        return self._pool

    def get(self) -> Services:
        """The running services; BackendUnavailable before start-up finished."""
        if self._started is None:
            raise BackendUnavailable("the service is starting")
        return self._started.services

    def start(self) -> None:
        """Connect, apply the schema, load the embedder, make sure the root user and its key exist."""
        started = start_services(self._config or MOSConfig.load(), self._runtime, served=True)
        limits = started.runtime.config.limits
        self._pool = WorkerPool(
            limits.max_worker_threads, limits.max_workers_per_caller, limits.max_light_worker_threads
        )
        self._started = started

    def stop(self) -> None:
        """Close the driver if this holder opened it."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._started is not None:
            self._started.close()
        self._started = None

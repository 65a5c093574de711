from keel.entrypoints import serve_worker
from keel.runtime import Runtime
from keel.worker import Worker
from partner_portal.config import load_settings
from partner_portal.consumers import SUBSCRIPTION


def build_worker(runtime: Runtime) -> Worker:
    """The portal's consumer; it publishes nothing, so it has no outbox to relay."""
    worker = Worker(runtime)
    worker.consume(SUBSCRIPTION)
    return worker


def run() -> None:
    serve_worker(build_worker, load_settings())

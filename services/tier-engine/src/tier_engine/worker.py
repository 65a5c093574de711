from keel.entrypoints import serve_worker
from keel.runtime import Runtime
from keel.worker import Worker
from tier_engine.config import load_settings
from tier_engine.consumers import SUBSCRIPTION


def build_worker(runtime: Runtime) -> Worker:
    worker = Worker(runtime)
    worker.consume(SUBSCRIPTION)
    worker.relay_outbox()
    return worker


def run() -> None:
    serve_worker(build_worker, load_settings())

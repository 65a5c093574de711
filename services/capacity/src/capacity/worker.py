from capacity.config import load_settings
from capacity.consumers import SUBSCRIPTION
from capacity.expiry import ExpirySweep
from keel.entrypoints import serve_worker
from keel.runtime import Runtime
from keel.worker import Worker


def build_worker(runtime: Runtime) -> Worker:
    worker = Worker(runtime)
    worker.consume(SUBSCRIPTION)
    worker.relay_outbox()
    worker.add(ExpirySweep(runtime))
    return worker


def run() -> None:
    serve_worker(build_worker, load_settings())

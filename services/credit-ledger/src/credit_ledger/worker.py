from credit_ledger.config import load_settings
from credit_ledger.consumers import subscription
from credit_ledger.domain.policy import ManagedPolicy
from keel.entrypoints import serve_worker
from keel.runtime import Runtime
from keel.worker import Worker


def build_worker(runtime: Runtime) -> Worker:
    policy = ManagedPolicy.load(runtime.settings.service.policy_dir)
    worker = Worker(runtime)
    worker.consume(subscription(policy, runtime.clock))
    worker.relay_outbox()
    return worker


def run() -> None:
    serve_worker(build_worker, load_settings())

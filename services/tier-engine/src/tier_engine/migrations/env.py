from keel.migrations import run_env
from tier_engine.tables import metadata

run_env(metadata)

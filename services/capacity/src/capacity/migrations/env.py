from capacity.tables import metadata
from keel.migrations import run_env

run_env(metadata)

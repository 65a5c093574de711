from keel.migrations import run_env
from partner_portal.tables import metadata

run_env(metadata)

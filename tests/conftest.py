"""Fixtures of the cross-service tests."""

import pytest
from pipeline_support import StartPipeline, pipeline_starter

from activity_ingest.config import IngestServiceSettings
from keel.settings import Settings


@pytest.fixture
def start_pipeline(
    ingest_settings: IngestServiceSettings, ledger_settings: Settings, tier_settings: Settings
) -> StartPipeline:
    return pipeline_starter(ingest_settings, ledger_settings, tier_settings)

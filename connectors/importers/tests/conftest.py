"""Fixtures of the history-import tests: the fixture files and stores to import into."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.tests.factories import ChannelFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_path():
    return lambda name: FIXTURES / name


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files and error reports go to a scratch folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def inr_store(db):
    return ChannelFactory(code="in-shop", currency="INR")


@pytest.fixture
def usd_store(db):
    return ChannelFactory(code="us-shop", currency="USD")


@pytest.fixture
def eur_store(db):
    return ChannelFactory(code="eu-woo", kind="woocommerce", currency="EUR")

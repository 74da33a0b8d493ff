from __future__ import annotations

import pytest

from livetranslate.translation import ApertiumTranslator
from tests.translation.llm_server import LlmServer


@pytest.fixture(scope="session")
def llm_server():
    with LlmServer() as server:
        yield server


@pytest.fixture
def llm(llm_server):
    llm_server.reset()
    return llm_server


@pytest.fixture(scope="session")
def apertium():
    import asyncio

    engine = ApertiumTranslator()
    if not engine.available:
        pytest.fail("Apertium is missing: run `make test` (it installs the translation packages)")
    yield engine
    asyncio.run(engine.aclose())

"""Fixtures shared by the demos tests: a real tiny bundle and a factory for broken ones."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helper module sits next to this file; make it importable as `bundle_factory`
# whatever rootdir/import mode pytest runs with.
sys.path.insert(0, str(Path(__file__).parent))

from bundle_factory import make_bundle as _make_bundle  # noqa: E402


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    """A valid bundle folder (`simple_cnn` [8, 16], labels red/green/blue, 32x32).

    Shared by the whole session: tests must not modify it (copy it or use make_bundle).
    """
    return _make_bundle(tmp_path_factory.mktemp("bundles"), "colours")


@pytest.fixture
def make_bundle():
    """The `make_bundle(tmp_path, name="colours", *, remove=(), onnx_bytes=None, **fields)`
    helper from bundle_factory, for tests that need a broken or altered bundle."""
    return _make_bundle

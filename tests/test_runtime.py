"""The server process's garbage collector (network/core/runtime.py, issue 11): settled once the application is built."""
from __future__ import annotations

import gc

import pytest

from network.core import runtime


@pytest.fixture
def collector():
    """The collector's state before the test, put back after it (the test process keeps Python's defaults)."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settling_freezes_what_exists_and_collects_less_often(collector):
    assert gc.get_threshold() != runtime.GC_THRESHOLDS
    kept = [object() for _ in range(10)]  # noqa: F841 (alive while the heap is settled)
    runtime.settle_heap()
    assert gc.get_threshold() == runtime.GC_THRESHOLDS
    assert gc.get_freeze_count() > 1000  # the modules, the classes, the test session itself


def test_the_application_settles_the_heap_when_asked(collector, tmp_path, monkeypatch):
    from app import create_app

    settled = []
    monkeypatch.setattr(runtime, "settle_heap", lambda: settled.append(True))
    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32,
              "MASTER_KEY": "test-master-key-" + "y" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    create_app(config)
    assert settled == []  # the test suite's default (tests/conftest.py)
    create_app({**config, "SETTLE_HEAP": True})
    assert settled == [True]

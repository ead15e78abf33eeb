"""Conformance suites: every case names its clause and judges through the ``case`` fixture.

Run with ``harness run`` or ``pytest suites [--target PROFILE.toml]``.
"""

from harness.plugin.hooks import (  # noqa: F401 - pytest finds hooks and fixtures by name
    case,
    pytest_addoption,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_teststatus,
    pytest_runtest_logreport,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
    pytest_runtestloop,
    pytest_sessionfinish,
    pytest_unconfigure,
)

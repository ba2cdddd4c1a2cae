"""The parity suite needs TensorFlow running for real: a missing TensorFlow or a skipped test is a failure.

Import order matters: with TensorFlow loaded first, the first ``import torch._dynamo`` (which any
torch optimizer triggers) aborts the interpreter with ``LLVM ERROR: ... registered more than once``.
Importing ``torch._dynamo`` here, before anything imports TensorFlow, makes the suite immune to it.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import torch._dynamo  # noqa: E402,F401  (must precede TensorFlow, see above)

import pytest  # noqa: E402

try:
    import tensorflow as tf  # noqa: E402
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise pytest.UsageError(
        f"the parity suite in compare/ needs TensorFlow ({error}); install it with: pip install -e '.[compare]'"
    ) from error


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn every skip inside compare/ into a failure: a parity check that did not run proves nothing."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"parity test skipped ({report.longrepr}); in compare/ a skip counts as a failure"

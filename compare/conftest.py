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


MARKERS = {
    "forward": "level 1: outputs of Keras and ptref with transferred weights",
    "gradient": "level 2: GradientTape vs autograd, per parameter",
    "step": "level 3: one optimizer step from identical weights and batch",
    "trajectory": "level 4: N training steps, Keras/TF1 vs the Lightning Trainer",
    "statistical": "level 5: mean accuracy over seeds, each framework with its own randomness",
    "interop": "level 6: weight transfer round trips and .keras/.h5 loading",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn every skip inside compare/ into a failure: a parity check that did not run proves nothing."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"parity test skipped ({report.longrepr}); in compare/ a skip counts as a failure"

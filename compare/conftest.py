"""The parity suite needs TensorFlow running for real: a missing TensorFlow or a skipped test is a failure.

TensorFlow is imported here, through the one bootstrap (:func:`ptref.parity.tf.import_tensorflow`), before any test
module imports it: ``torch._dynamo`` first (else the first torch optimizer aborts the process on an LLVM option
clash), and ``TF_ENABLE_ONEDNN_OPTS=0`` unless the environment chose otherwise: TensorFlow reads it only when it is
imported, and the tolerances in ``ptref/parity/tolerance.py`` are stated for the Eigen kernels it selects.
"""

from __future__ import annotations

import pytest

from ptref.parity.tf import TensorFlowMissing, import_tensorflow

try:
    import_tensorflow()
except TensorFlowMissing as error:  # pragma: no cover - exercised only without the extra
    raise pytest.UsageError(f"the parity suite in compare/ needs TensorFlow: {error}") from error


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn every skip inside compare/ into a failure: a parity check that did not run proves nothing."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"parity test skipped ({report.longrepr}); in compare/ a skip counts as a failure"

"""Level 6: ptref.interop moves weights between Keras and ptref exactly, from live models and from files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compare import checks, workflows
from ptref import interop


@pytest.mark.interop
@pytest.mark.parametrize("workflow", workflows.WORKFLOWS)
def test_round_trips_are_bit_exact(workflow: str) -> None:
    for result in checks.round_trip(workflow):
        assert result.max_abs == 0.0, f"{workflow}: {result.what} changed weights by {result.max_abs:g}"


@pytest.mark.interop
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("workflow", ["house_price", "cnn", "cnn_bn"])
def test_weights_load_from_keras_files(workflow: str, suffix: str, tmp_path: Path) -> None:
    result = checks.file_loading(workflow, suffix, str(tmp_path))
    assert result.max_abs == 0.0, f"{result.what}: {result.max_abs:g}"


@pytest.mark.interop
def test_numpy_arrays_are_a_source_too() -> None:
    pair = workflows.pair("mlp")
    arrays = pair.keras_model.get_weights()
    interop.load_keras_weights(pair.ptref_model, arrays)
    assert all(np.array_equal(a, b) for a, b in zip(arrays, interop.ptref_arrays(pair.ptref_model)))


@pytest.mark.interop
def test_mismatched_architectures_are_refused() -> None:
    with pytest.raises(ValueError, match="architectures differ"):
        interop.load_keras_weights(workflows.ptref_model("mlp"), workflows.keras_model("softmax"))
    with pytest.raises(ValueError, match="architectures differ"):
        interop.load_keras_weights(workflows.ptref_model("cnn"), workflows.keras_model("cnn_bn"))


@pytest.mark.interop
def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such Keras model file"):
        interop.load_keras_weights(workflows.ptref_model("mlp"), tmp_path / "absent.keras")


@pytest.mark.interop
def test_importing_interop_does_not_import_tensorflow() -> None:
    code = "import sys, ptref.interop; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    repo = Path(__file__).resolve().parent.parent
    assert subprocess.run([sys.executable, "-c", code], cwd=repo, env={"PYTHONPATH": str(repo)}).returncode == 0

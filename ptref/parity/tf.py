"""Import TensorFlow next to torch, in the one order that works, with the kernels the parity tolerances assume.

With TensorFlow loaded first, the first ``import torch._dynamo`` (which any torch optimizer triggers) aborts the
interpreter with ``LLVM ERROR: ... registered more than once``: both bundle LLVM and register the same command-line
options. Importing ``torch._dynamo`` first makes the process immune. Everything in ptref that needs TensorFlow
(the parity engine, the port, the lessons' TensorFlow twins) and the ``compare/`` suite import it through
:func:`import_tensorflow`, and only inside the functions that need it.

oneDNN: TensorFlow's x86 builds run float32 matmuls through oneDNN unless ``TF_ENABLE_ONEDNN_OPTS=0``, which sums in
another order than Eigen (a Dense output moves by ~1 ulp per 100 terms). TensorFlow reads the variable once, when it
is imported: set after ``import tensorflow`` it changes nothing (``compare/test_parity_engine_tf.py`` checks both).
:func:`import_tensorflow` sets it to ``0`` unless the caller already chose, so every run of the parity suite and the
engine uses Eigen's kernels; :func:`onednn_state` says what the running process got, for the reports.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

_STATE: dict[str, str] = {}


class TensorFlowMissing(ImportError):
    """TensorFlow is not installed (it is the ``compare`` extra)."""


def import_tensorflow() -> ModuleType:
    """``import tensorflow`` after ``torch._dynamo``, oneDNN off unless ``TF_ENABLE_ONEDNN_OPTS`` is already set,
    TensorFlow's C++ info/warning lines silenced.

    Raises :class:`TensorFlowMissing` with the install command when the extra is absent.
    """
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        _STATE.setdefault("onednn", "off" if os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0" else "on")
    import torch._dynamo  # noqa: F401  (must precede TensorFlow, see the module docstring)

    try:
        import tensorflow
    except ImportError as error:
        raise TensorFlowMissing(
            f"TensorFlow is not installed ({error}): pip install -e '.[compare]' (or pip install tensorflow-cpu)"
        ) from error
    return tensorflow


def import_keras() -> ModuleType:
    """``import keras`` through :func:`import_tensorflow` (Keras 3 on the TensorFlow backend)."""
    import_tensorflow()
    import keras

    return keras


def onednn_state() -> str:
    """``"off"``/``"on"``: TensorFlow's oneDNN kernels in this process, as the bootstrap imported it; ``"unknown"``
    when TensorFlow was imported before (then only the environment of that moment decided)."""
    return _STATE.get("onednn", "unknown")

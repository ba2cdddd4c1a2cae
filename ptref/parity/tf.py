"""Import TensorFlow next to torch, in the one order that works.

With TensorFlow loaded first, the first ``import torch._dynamo`` (which any torch optimizer triggers) aborts the
interpreter with ``LLVM ERROR: ... registered more than once``: both bundle LLVM and register the same command-line
options. Importing ``torch._dynamo`` first makes the process immune. Everything in ptref that needs TensorFlow
(the parity engine, the port, the lessons' TensorFlow twins, the benchmark, the ``compare/`` suite) imports it
through :func:`import_tensorflow`, and only inside the functions that need it.
"""

from __future__ import annotations

import os
from types import ModuleType


class TensorFlowMissing(ImportError):
    """TensorFlow is not installed (it is the ``compare`` extra)."""


def import_tensorflow() -> ModuleType:
    """``import tensorflow`` after ``torch._dynamo``, with TensorFlow's C++ info/warning lines silenced.

    Raises :class:`TensorFlowMissing` with the install command when the extra is absent.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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

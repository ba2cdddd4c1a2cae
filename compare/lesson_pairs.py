"""Both sides of a lesson's steps, run once per lesson, for the parity tests of ``compare/test_concepts_*_tf.py``."""

from __future__ import annotations

import functools

from ptref.concepts import lesson


@functools.cache
def ran(name: str) -> dict[str, tuple[dict, dict]]:
    """``step -> (TensorFlow values, PyTorch values)`` for lesson ``name``; fails if TensorFlow did not run."""
    steps, status = lesson.run_lesson(name)
    assert status.startswith("TensorFlow: running live"), status
    pairs = {}
    for step in steps:
        if not step.is_helper:
            assert step.tf.values is not None, f"{name}.{step.name}: {step.tf.note}"
            pairs[step.name] = (step.tf.values, step.torch.values)
    return pairs

"""Tolerances of the parity levels, each with the reason for its size, and the rule that applies them.

float32 has eps = 1.19e-7 (one ulp of 1.0). A dot product of length n summed in a different order (Eigen or oneDNN
on the TensorFlow side, ATen/MKL on the torch side) differs by up to ~sqrt(n)·eps·Σ|terms| in practice, and every
further layer adds its own rounding. :func:`ptref.parity.tf.import_tensorflow` turns TensorFlow's oneDNN kernels off
(``TF_ENABLE_ONEDNN_OPTS=0`` before TensorFlow is imported: set later, it has no effect) unless the caller chose;
with oneDNN on, Keras's own dense outputs move by ~2e-6 (``docs/keras-numerics.md``, "Layers and initialization"),
which the layer-level bounds below still cover. Each value comes from the error model in its reason; the parity
report prints the measured values beside them. BatchNorm in training mode has its own bounds (``BATCHNORM_*``):
Keras's float32 batch variance is ~1e-4 relative off float64 (ptref's is 3e-7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Tolerance:
    """A bound on ``actual`` against ``expected``, element by element, and the reason for its size.

    ``"abs"``: |a − b| <= ``value``, for quantities of a known size.

    ``"rel"``: |a − b| <= max(``value`` · |b|, ``atol`` · S), where S = max |b| over the compared set: a relative
    part and an absolute part scaled to the quantity's magnitude. A value near zero is the difference of terms of
    size ~S, so its rounding is that of S, not its own; relative alone would fail it on noise. The larger of the
    two parts is pytest.approx's rule (numpy's sum ``atol + rtol·|b|`` is at most twice it): the absolute part
    widens the bound only where ``value`` · |b| < ``atol`` · S, near zero. :meth:`gap` is the metric, <= ``value``
    exactly when the bound holds.
    """

    name: str
    value: float
    kind: str
    reason: str
    atol: float = 0.0

    def __post_init__(self) -> None:
        if self.kind == "rel" and not self.atol > 0:
            raise ValueError(f"tolerance {self.name}: a 'rel' tolerance needs an absolute part (atol > 0)")

    def gap(self, actual: ArrayLike, expected: ArrayLike, scale: float | None = None) -> np.ndarray:
        """Per element: |a − b| (``"abs"``), or |a − b| / max(|b|, (atol / value) · S) (``"rel"``).

        S is ``scale``, or max |expected| when not given (a check may pass the magnitude of a larger set, such as
        the whole model's largest gradient). An element that differs where its bound is 0 gets an infinite gap.
        """
        a, b = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
        diff = np.abs(a - b)
        if self.kind == "abs":
            return diff
        magnitude = float(np.max(np.abs(b), initial=0.0)) if scale is None else scale
        denominator = np.maximum(np.abs(b), self.atol / self.value * magnitude)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(diff == 0, 0.0, diff / denominator)


FORWARD = Tolerance(
    "FORWARD", 1e-5, "abs",
    "probabilities in [0, 1] after <= 4 layers (784-long dot products, 3x3x32 convolutions): float32 rounding in "
    "a different summation order is ~1e-6 at the logits, softmax does not amplify it; 1e-5 is the issue's bound",
)
LAYER = Tolerance(
    "LAYER", 1e-5, "rel",
    "an intermediate layer's output, per element, S = max |keras output of that layer|. Absolute part 1e-5 S: the "
    "same float32 summation-order rounding as FORWARD, in units of the layer's own magnitude (activations are not "
    "O(1) in general); relative part 1e-5 |y|, never larger than the absolute part. A wrong port (a transposed "
    "kernel, a wrong epsilon, a channel order) moves a layer by O(S)",
    atol=1e-5,
)
GRADIENT = Tolerance(
    "GRADIENT", 1e-5, "rel",
    "per parameter, S = max |g_tf| over the whole model. Absolute part 1e-5 S: a backward pass is two more "
    "matmuls/convolutions of the same depth as the forward pass, each ~sqrt(n) eps of the terms it sums, which are "
    "of the model's largest gradient's size, and batch-mean reduction order differs too; a gradient that is 0 in "
    "exact arithmetic (the house-price bias on centred data) holds that noise. Relative part 1e-5 |g|: never "
    "larger than the absolute part (|g| <= S), so this bound is max |g_tf - g_torch| <= 1e-5 S",
    atol=1e-5,
)
STEP = Tolerance(
    "STEP", 1e-6, "abs",
    "weights after one optimizer step, |w| < 1: the update is lr (1e-3) times a quantity of relative error ~1e-5 "
    "(GRADIENT), plus one ulp of the weight (6e-8); adaptive optimizers divide by sqrt(v), so a gradient that is "
    "pure rounding noise (~1e-9) can move by up to lr = 1e-3 - the inputs here have none (see STEP_ADAPTIVE)",
)
STEP_ADAPTIVE = Tolerance(
    "STEP_ADAPTIVE", 1e-5, "abs",
    "Adam/RMSprop-family steps normalise each gradient by its own magnitude, so a relative gradient difference of "
    "1e-5 becomes an absolute weight difference of lr * 1e-5 = 1e-8 - but near-zero gradients (a dead ReLU unit "
    "hit by one example) carry relative error ~1e-3, giving lr * 1e-3 = 1e-6; 1e-5 leaves one decade",
)
TRAJECTORY_LOSS = Tolerance(
    "TRAJECTORY_LOSS", 1e-4, "rel",
    "loss per step over N steps. Relative part 1e-4 |loss| (the issue's example: relative 1e-4 after 200 steps): "
    "each step's rounding (STEP) feeds the next, growing roughly linearly with steps for these convex-ish, small-lr "
    "runs. Absolute part 1e-5 S, S = the run's largest loss (84 float32 ulps of it): a loss that falls towards 0 "
    "is still the mean of terms computed from logits or predictions of the run's size (logsumexp(z) - z_y, "
    "(y_hat - y)^2), so it keeps their absolute round-off, which grows with the steps as the relative part's does "
    "(measured: <= 2 eps S after 50-200 steps, 28 eps S for the BatchNorm CNN); it binds only below a tenth of S",
    atol=1e-5,
)
TRAJECTORY_WEIGHTS = Tolerance(
    "TRAJECTORY_WEIGHTS", 1e-4, "abs",
    "final weights after N Adam steps at lr 1e-3: N * lr * (relative gradient error ~1e-3 on near-zero "
    "gradients) ~ 5e-5 for N = 50 worst case; SGD-type runs stay ~1e-7",
)
MEASURED = Tolerance("MEASURED", math.inf, "abs", "a measurement reported for information (the init effect), no bound")
EXACT = Tolerance("EXACT", 0.0, "abs", "round trips copy float32 bits (transpose/permute only): nothing may change")
BATCHNORM_TRAINING = Tolerance(
    "BATCHNORM_TRAINING", 5e-4, "rel",
    "gradients of the BatchNorm CNN in training mode, per parameter, S = max |g_tf| over the model. Absolute part "
    "5e-4 S: Keras's TF moments of a 64x26x26 conv map carry ~1e-4 relative error in the variance (measured vs "
    "float64; ptref's two-pass variance: 3e-7), which reaches every gradient through 1/sqrt(var + eps); 5e-4 = that "
    "error times the few-fold amplification of the backward pass, in units of the largest gradient, as GRADIENT. "
    "Relative part 5e-4 |g|: never larger than the absolute part (|g| <= S)",
    atol=5e-4,
)
BATCHNORM_STEP = Tolerance(
    "BATCHNORM_STEP", 1e-5, "abs",
    "one SGD step (lr 0.01) of the BatchNorm CNN: weights move by lr x gradient error (BATCHNORM_TRAINING, "
    "|g| < 1) ~ 5e-6; moving variance moves by 0.01 x (1e-4 relative batch-variance error) x var ~ 5e-6",
)

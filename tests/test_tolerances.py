"""The DDP equivalence check's tolerance on its own: round-off on a near-zero weight passes, a real gap does not.

The inputs are weights of that test's model (bias, area, bedrooms after 12 updates): the bias sits near 0 on
centred prices, where float32 sums in another order (two processes vs one) move it by ~1.4e-9, 2.1e-6 of itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_ddp import weights_tolerance

SINGLE = np.array([-7.030866e-4, 7.086794e-1, 4.474984e-2], np.float32)


def test_round_off_on_the_near_zero_bias_is_tolerated():
    parallel = SINGLE.copy()
    parallel[0] = np.float32(-7.030852e-4)  # |diff| 1.4e-9: 0.02 ulp of the largest weight, 2.1e-6 relative
    np.testing.assert_allclose(parallel, SINGLE, **weights_tolerance(SINGLE))


@pytest.mark.parametrize("index", [0, 1, 2], ids=["bias", "area", "bedrooms"])
def test_a_1e_4_difference_in_any_weight_is_caught(index):
    parallel = SINGLE.copy()
    parallel[index] += np.float32(1e-4)
    assert not np.allclose(parallel, SINGLE, **weights_tolerance(SINGLE))

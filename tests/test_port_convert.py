"""``ptref.port``'s weight conversions and the ``ptref.nn`` modules it writes, without TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ptref.nn import LSTM as KerasLSTM
from ptref.nn import Bidirectional, Crop, Reshape
from ptref.port.convert import conv_kernel, dense_kernel, depthwise_kernel
from ptref.port.layers import CHANNELS_FIRST, CHANNELS_LAST, torch_axis

rng = np.random.default_rng(0)


@pytest.mark.parametrize("pair, shape", [(dense_kernel(), (5, 3)), (conv_kernel(), (3, 2, 4, 6)),
                                         (conv_kernel(), (5, 4, 6)), (depthwise_kernel(2), (3, 3, 4, 2))])
def test_conversions_round_trip_exactly(pair, shape) -> None:
    to_torch, to_keras = pair
    kernel = rng.normal(size=shape).astype("float32")
    np.testing.assert_array_equal(to_keras(to_torch(kernel)), kernel)


def test_depthwise_kernel_puts_channel_c_filter_j_at_output_c_times_m_plus_j() -> None:
    kernel = rng.normal(size=(3, 3, 4, 2)).astype("float32")
    weight = depthwise_kernel(2)[0](kernel)
    for c in range(4):
        for j in range(2):
            np.testing.assert_array_equal(weight[c * 2 + j, 0], kernel[:, :, c, j])


def test_conv_kernel_is_torch_convolution_of_the_keras_kernel() -> None:
    kernel = rng.normal(size=(3, 2, 4, 6)).astype("float32")  # (kh, kw, in, out)
    x = rng.normal(size=(1, 4, 5, 5)).astype("float32")
    torch_out = F.conv2d(torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(conv_kernel()[0](kernel))))
    by_hand = np.einsum("hwio,nihw->no", kernel, x[:, :, :3, :2])
    np.testing.assert_allclose(torch_out[:, :, 0, 0].numpy(), by_hand, atol=1e-5, rtol=1e-5)


def test_keras_axes_move_with_the_channels() -> None:
    assert [torch_axis(a, 4, CHANNELS_FIRST) for a in (0, 1, 2, 3, -1)] == [0, 2, 3, 1, 1]
    assert [torch_axis(a, 4, CHANNELS_LAST) for a in (1, -1)] == [1, 3]
    assert torch_axis(-1, 2, CHANNELS_FIRST) == 1


def test_crop_removes_before_and_after_cells_per_axis() -> None:
    x = torch.arange(2 * 3 * 6 * 7, dtype=torch.float32).reshape(2, 3, 6, 7)
    assert torch.equal(Crop((1, 2), (0, 3))(x), x[:, :, 1:4, 0:4])
    assert Reshape((3, -1))(x).shape == (2, 3, 42)


def test_bidirectional_needs_opposite_directions() -> None:
    with pytest.raises(ValueError, match="different go_backwards"):
        Bidirectional(KerasLSTM(3, 2), KerasLSTM(3, 2))

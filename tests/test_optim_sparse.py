"""Sparse (``nn.Embedding(sparse=True)``) gradients in ``ptref.optim`` without TensorFlow: the multi-tensor path
takes the dense parameters and leaves the sparse one to its readable ``update_step``, with the same result."""

from __future__ import annotations

import torch

from ptref import optim


def trained(foreach: bool) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(8, 3, sparse=True), torch.nn.Flatten(), torch.nn.Linear(12, 1))
    optimizer = optim.Adam(model.parameters(), 0.05, clipnorm=0.5, foreach=foreach)
    for step in range(3):
        optimizer.zero_grad()
        model(torch.tensor([[1, 1, 2, step], [4, 1, 1, 0]])).square().sum().backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def test_multi_tensor_path_with_a_sparse_parameter_equals_the_readable_one() -> None:
    # atol 1e-6, rtol 1e-6: the fused Adam rounds its last line in another order (ptref/optim/multi_tensor.py)
    for fast, readable in zip(trained(foreach=True), trained(foreach=False)):
        torch.testing.assert_close(fast, readable, atol=1e-6, rtol=1e-6)

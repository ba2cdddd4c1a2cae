"""Muon's rules and step, LossScaleOptimizer, serialize, and the Lightning path of Keras's fit (loss scale, EMA).

Compared with Keras running live in compare/test_optimizers_finish_tf.py; here: torch-side behaviour and a float64
NumPy reference of Muon's formula.
"""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import ptref.optim as optim
from ptref.callbacks.keras import FinalizeEMA, ScaleLoss, SwapEMAWeights
from ptref.optim.muon import newton_schulz
from ptref.optim.schedules import ExponentialDecay


def newton_schulz_float64(x: np.ndarray, steps: int, a: float, b: float, c: float) -> np.ndarray:
    """Keras's zeropower_via_newtonschulz5, in float64."""
    wide = x.shape[0] <= x.shape[1]
    x = x if wide else x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + (c * gram) @ gram) @ x
    return x if wide else x.T


def test_muon_first_step_matches_the_float64_formula():
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal((2, 6, 4))
    param = torch.nn.Parameter(torch.tensor(w, dtype=torch.float32))
    optimizer = optim.Muon([("layer.kernel", param)], 0.05, weight_decay=0.1, momentum=0.9, ns_steps=5, rms_rate=0.3)
    param.grad = torch.tensor(g, dtype=torch.float32)
    optimizer.step()
    w = w - w * 0.1 * 0.05  # decoupled decay first
    u = g + 0.9 * g  # m = g after one step; Nesterov: g + momentum * m
    expected = w - 0.05 * newton_schulz_float64(u, 5, 3.4445, -4.7750, 2.0315) * np.sqrt(6) * 0.3
    # float32 (24-bit) through ten matmuls of 4x4 to 6x4 matrices: a few 1e-7 relative; 1e-5 leaves room, a wrong
    # coefficient or a missing transpose costs > 1e-3
    np.testing.assert_allclose(param.detach().numpy(), expected, atol=1e-5, rtol=1e-5)


def test_newton_schulz_of_a_transpose_is_the_transpose():
    """Keras's Dense kernel is (in, out), torch's Linear weight (out, in): Muon gives transposed updates."""
    x = torch.randn(5, 5, generator=torch.Generator().manual_seed(0))
    # square: the same polynomial computed from the other side, float32 rounding only (1e-6 abs + rel)
    torch.testing.assert_close(newton_schulz(x.T, 5, 3.4445, -4.775, 2.0315),
                               newton_schulz(x, 5, 3.4445, -4.775, 2.0315).T, atol=1e-6, rtol=1e-6)
    tall = torch.randn(7, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(newton_schulz(tall.T, 5, 3.4445, -4.775, 2.0315),
                               newton_schulz(tall, 5, 3.4445, -4.775, 2.0315).T, atol=0.0, rtol=0.0)


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(10, 4)
        self.conv = torch.nn.Conv2d(1, 2, 3)
        self.hidden = torch.nn.Linear(4, 8)
        self.head = torch.nn.Linear(8, 3)


def test_muon_maps_keras_rules_to_torch_names_and_ranks():
    net = Net()
    optimizer = optim.Muon(net.named_parameters(), exclude_layers=["head"])
    adamw = {name for name, p in net.named_parameters() if optimizer._use_adamw[id(p)]}
    assert adamw == {"embedding.weight", "conv.weight", "conv.bias", "hidden.bias", "head.weight", "head.bias"}
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    assert "velocity" not in optimizer.state[net.hidden.weight] and "velocity" in optimizer.state[net.head.weight]


def test_muon_refuses_unnamed_parameters_when_a_name_rule_applies_and_takes_group_overrides():
    net = Net()
    with pytest.raises(ValueError, match="Muon: exclude_embeddings/exclude_layers need parameter names"):
        optim.Muon(net.parameters())
    optimizer = optim.Muon([{"params": [net.embedding.weight], "use_adamw": True},
                            {"params": [net.hidden.weight]}], exclude_embeddings=False)
    assert optimizer._use_adamw[id(net.embedding.weight)] and not optimizer._use_adamw[id(net.hidden.weight)]


def test_muon_is_a_keras_name():
    assert isinstance(optim.get("muon")([("w", torch.nn.Parameter(torch.zeros(2, 2)))]), optim.Muon)


def test_serialize_deserialize_round_trip_keeps_name_schedule_and_options():
    params = [("w", torch.nn.Parameter(torch.zeros(2)))]
    adam = optim.Adam(params, ExponentialDecay(0.1, 10, 0.5), beta_1=0.8, name="fast", use_ema=True, clipnorm=2.0)
    config = optim.serialize(adam)
    assert config["class_name"] == "Adam" and config["config"]["name"] == "fast"
    assert optim.serialize(optim.deserialize(config, params)) == config
    wrapped = optim.LossScaleOptimizer(optim.SGD(params, 0.5), initial_scale=4.0, dynamic_growth_steps=7)
    assert optim.serialize(optim.deserialize(optim.serialize(wrapped), params)) == optim.serialize(wrapped)
    with pytest.raises(ValueError, match="a callable learning_rate has no config"):
        optim.serialize(optim.SGD(params, lambda: 0.1))


# --- the Lightning path: a Trainer on a tiny regression ---

X = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
Y = torch.randn(16, 2, generator=torch.Generator().manual_seed(1))


class Regression(pl.LightningModule):
    def __init__(self, make_optimizer, scale_in_step: bool = False, inf_at: int | None = None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.dense = torch.nn.Linear(3, 2)
        self.make_optimizer, self.scale_in_step, self.inf_at = make_optimizer, scale_in_step, inf_at

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.dense(x), y)
        if self.inf_at == self.global_step:
            loss = loss * float("inf")
        return self.optimizers().optimizer.scale_loss(loss) if self.scale_in_step else loss

    def predict_step(self, batch, batch_idx):
        return self.dense(batch[0])

    def configure_optimizers(self):
        return self.make_optimizer(self.parameters())


def fit(make_optimizer, callbacks=(), epochs: int = 2, **module_kwargs) -> tuple[Regression, pl.Trainer]:
    model = Regression(make_optimizer, **module_kwargs)
    trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=list(callbacks))
    trainer.fit(model, DataLoader(TensorDataset(X, Y), batch_size=4))
    return model, trainer


def weights(model: Regression) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_a_fit_that_does_not_scale_the_loss_is_refused():
    with pytest.raises(RuntimeError, match=r"SGD: the loss was not scaled \(scale 64.0\)"):
        fit(lambda p: optim.SGD(p, 0.1, loss_scale_factor=64.0))


def test_scale_loss_callback_gives_the_updates_of_an_unscaled_fit():
    plain = weights(fit(lambda p: optim.SGD(p, 0.1, momentum=0.5))[0])
    scaled = weights(fit(lambda p: optim.SGD(p, 0.1, momentum=0.5, loss_scale_factor=64.0), [ScaleLoss()])[0])
    in_step = weights(fit(lambda p: optim.SGD(p, 0.1, momentum=0.5, loss_scale_factor=64.0), scale_in_step=True)[0])
    for a, b, c in zip(plain, scaled, in_step):  # a power-of-two scale and its division are exact
        torch.testing.assert_close(b, a, atol=0.0, rtol=0.0)
        torch.testing.assert_close(c, a, atol=0.0, rtol=0.0)


def test_scaling_the_loss_twice_is_refused():
    with pytest.raises(RuntimeError, match="the loss was scaled twice"):
        fit(lambda p: optim.SGD(p, 0.1, loss_scale_factor=8.0), [ScaleLoss()], scale_in_step=True)


def test_gradients_set_by_hand_are_not_refused():
    param = torch.nn.Parameter(torch.ones(2))
    optimizer = optim.SGD([param], 0.5, loss_scale_factor=4.0)
    param.grad = torch.full((2,), 4.0)  # what a scaled loss would give: g = 1
    optimizer.step()
    torch.testing.assert_close(param.detach(), torch.full((2,), 0.5), atol=0.0, rtol=0.0)


def test_loss_scale_optimizer_in_a_trainer_skips_the_inf_step_and_halves_the_scale():
    def make(p):
        return optim.LossScaleOptimizer(optim.SGD(p, 0.1), initial_scale=2.0**10, dynamic_growth_steps=3)

    plain, _ = fit(lambda p: optim.SGD(p, 0.1), epochs=1)
    model, trainer = fit(make, [ScaleLoss()], epochs=1)
    for a, b in zip(weights(plain), weights(model)):  # 4 finite steps, power-of-two scales: exact
        torch.testing.assert_close(b, a, atol=0.0, rtol=0.0)
    assert trainer.optimizers[0].dynamic_scale == 2.0**11  # grown once, after 3 finite steps
    skipped, trainer = fit(make, [ScaleLoss()], epochs=1, inf_at=1)
    assert (trainer.optimizers[0].dynamic_scale, trainer.optimizers[0].iterations) == (2.0**9, 3)
    with pytest.raises(RuntimeError, match="LossScaleOptimizer: the loss was not scaled"):
        fit(make)


def test_loss_scale_optimizer_state_dict_keeps_the_scale():
    param = torch.nn.Parameter(torch.ones(2))
    optimizer = optim.LossScaleOptimizer(optim.Adam([param], 0.1), initial_scale=8.0, dynamic_growth_steps=1)
    optimizer.scale_loss(param.sum()).backward()
    optimizer.step()
    restored = optim.LossScaleOptimizer(optim.Adam([torch.nn.Parameter(torch.ones(2))], 0.1))
    restored.load_state_dict(optimizer.state_dict())
    assert (restored.dynamic_scale, restored.inner_optimizer.iterations) == (16.0, 1)


def test_finalize_ema_writes_the_averages_and_leaves_other_optimizers_alone():
    plain = weights(fit(lambda p: optim.SGD(p, 0.1))[0])
    torch.testing.assert_close(weights(fit(lambda p: optim.SGD(p, 0.1), [FinalizeEMA()])[0]), plain, atol=0.0,
                               rtol=0.0)
    model, trainer = fit(lambda p: optim.SGD(p, 0.1, use_ema=True, ema_momentum=0.6), [FinalizeEMA()])
    state = trainer.optimizers[0].state
    for p in model.parameters():
        torch.testing.assert_close(p.detach(), state[p]["average"], atol=0.0, rtol=0.0)
    ema_off = weights(fit(lambda p: optim.SGD(p, 0.1, use_ema=True, ema_momentum=0.6))[0])
    assert not torch.equal(ema_off[0], weights(model)[0])


def test_swap_ema_weights_needs_an_ema_and_prediction_swaps_back():
    with pytest.raises(ValueError, match="SwapEMAWeights must be used when `use_ema=True`"):
        model, trainer = fit(lambda p: optim.SGD(p, 0.1), [SwapEMAWeights()])
        trainer.predict(model, DataLoader(TensorDataset(X), batch_size=4))
    model, trainer = fit(lambda p: optim.SGD(p, 0.1, use_ema=True, ema_momentum=0.6), [SwapEMAWeights()])
    before = weights(model)
    averages = [trainer.optimizers[0].state[p]["average"].clone() for p in model.parameters()]
    predicted = torch.cat(trainer.predict(model, DataLoader(TensorDataset(X), batch_size=4)))
    torch.testing.assert_close(predicted, X @ averages[0].T + averages[1], atol=1e-6, rtol=1e-6)  # float32 sums
    torch.testing.assert_close(weights(model), before, atol=0.0, rtol=0.0)

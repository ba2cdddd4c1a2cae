"""Keras's base optimizer options in ptref.optim, the step without gradients, and sparse gradients (no TensorFlow).

Parity of each option with Keras running live is in compare/test_optimizers_all_tf.py; here: what needs no
Keras. Runs that must be identical (a skipped step vs no step, a resumed run vs a straight one) are compared
bit-exactly: the same float32 operations run in the same order, so any difference is a bug, not rounding.
"""

from __future__ import annotations

import io

import pytest
import torch
from lightning.pytorch import LightningModule, Trainer
from helpers import QUIET_TRAINER
from torch.utils.data import DataLoader, TensorDataset

import ptref.optim as optim
from ptref.optim.schedules import ExponentialDecay

SHAPES = [(4, 3), (3,), (2, 2, 3)]

# Every optimizer with its stateful settings: the bias corrections (Adam, Adamax, Nadam, Lamb, Adafactor),
# Nadam's momentum product and the schedule all count steps.
SETTINGS = {
    "SGD-momentum-nesterov": (optim.SGD, dict(momentum=0.9, nesterov=True)),
    "RMSprop-centered-momentum": (optim.RMSprop, dict(momentum=0.5, centered=True)),
    "Adam-amsgrad": (optim.Adam, dict(amsgrad=True)),
    "AdamW": (optim.AdamW, {}),
    "Adagrad": (optim.Adagrad, {}),
    "Adadelta": (optim.Adadelta, {}),
    "Adamax": (optim.Adamax, {}),
    "Nadam": (optim.Nadam, {}),
    "Ftrl": (optim.Ftrl, dict(l1_regularization_strength=0.01, beta=0.1)),
    "Lion": (optim.Lion, {}),
    "Lamb": (optim.Lamb, {}),
    "Adafactor": (optim.Adafactor, {}),
    "ScheduleFreeAdamW": (optim.ScheduleFreeAdamW, dict(warmup_steps=3)),
    "Adam-accumulation-ema": (optim.Adam, dict(gradient_accumulation_steps=2, use_ema=True, ema_overwrite_frequency=3)),
}


def make_params() -> list[torch.nn.Parameter]:
    generator = torch.Generator().manual_seed(1)
    return [torch.nn.Parameter(torch.randn(shape, generator=generator)) for shape in SHAPES]


def gradients(steps: int, seed: int = 0) -> list[list[torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return [[torch.randn(shape, generator=generator) for shape in SHAPES] for _ in range(steps)]


def feed(optimizer: torch.optim.Optimizer, params, grads) -> None:
    """One ``step()`` per entry; ``None`` is a step in which no parameter has a gradient."""
    for gs in grads:
        for p, g in zip(params, gs or [None] * len(params)):
            p.grad = None if g is None else g.clone()
        optimizer.step()


def build(name: str, params):
    cls, kwargs = SETTINGS[name]
    return cls(params, learning_rate=ExponentialDecay(0.01, 3, 0.7), **kwargs)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_a_step_without_any_gradient_changes_and_counts_nothing(name):
    grads = gradients(9)
    with_empty = grads[:2] + [None] + grads[2:6] + [None, None] + grads[6:]
    straight_params, skipping_params = make_params(), make_params()
    straight, skipping = build(name, straight_params), build(name, skipping_params)
    feed(straight, straight_params, grads)
    feed(skipping, skipping_params, with_empty)
    assert skipping.iterations == straight.iterations and skipping.calls == len(grads)
    assert skipping.param_groups[0]["lr"] == straight.param_groups[0]["lr"]
    for a, b in zip(skipping_params, straight_params):
        assert torch.equal(a, b)


class SkippingRegression(LightningModule):
    """y = Wx + b on 12 fixed samples in 6 batches; ``training_step`` returns None for the batches in ``skip``."""

    def __init__(self, skip: set[int], drop: set[int] = frozenset()) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(3, 2)
        self.skip, self.drop = skip, drop

    def training_step(self, batch, batch_idx):
        if batch_idx in self.skip:
            return None
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        return optim.Nadam(self.parameters(), learning_rate=ExponentialDecay(0.05, 2, 0.8))

    def train_dataloader(self):
        generator = torch.Generator().manual_seed(0)
        x, y = torch.randn(12, 3, generator=generator), torch.randn(12, 2, generator=generator)
        keep = [i for i in range(12) if i // 2 not in self.drop]  # batch_size 2: sample i is in batch i // 2
        return DataLoader(TensorDataset(x[keep], y[keep]), batch_size=2)


@pytest.mark.filterwarnings("ignore:`training_step` returned `None`")
def test_lightning_batches_whose_training_step_returns_none_are_skipped_as_if_absent():
    skipped = SkippingRegression(skip={1, 4})
    Trainer(max_epochs=2, accelerator="cpu", **QUIET_TRAINER).fit(skipped)
    absent = SkippingRegression(skip=set(), drop={1, 4})
    Trainer(max_epochs=2, accelerator="cpu", **QUIET_TRAINER).fit(absent)
    assert skipped.trainer.optimizers[0].iterations == absent.trainer.optimizers[0].iterations == 2 * 4
    for a, b in zip(skipped.parameters(), absent.parameters()):
        assert torch.equal(a, b)


def embedding_step(cls, kwargs, sparse: bool, steps: int = 4) -> torch.Tensor:
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(10, 3, sparse=sparse)
    optimizer = cls(embedding.parameters(), **kwargs)
    for step in range(steps):
        # no row twice, as in Keras's own test (repeated rows: tests/test_optim_sparse.py)
        indices = torch.tensor([[1, 4, 0, 7], [2, 5, 9, 3 + 3 * (step % 2)]])
        optimizer.zero_grad()
        embedding(indices).square().sum().backward()
        optimizer.step()
    return embedding.weight.detach()


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_sparse_embedding_gradients_update_like_their_dense_twin(name):
    """Keras's rule (optimizer_sparse_test.py, indices without repeats): a sparse gradient updates as the dense one.
    With a repeated row the nonlinear rules differ, as in Keras (tests/test_optim_sparse.py).

    atol 1e-6, rtol 1e-6: the dense and the densified sparse gradient sum the duplicate rows in a different
    order (~1 ulp); a sparse row update that skips rows without gradient (a "lazy" Adam) moves weights >= 1e-4.
    """
    cls, kwargs = SETTINGS[name]
    sparse, dense = embedding_step(cls, kwargs, sparse=True), embedding_step(cls, kwargs, sparse=False)
    torch.testing.assert_close(sparse, dense, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_state_dict_resumes_bit_exactly_mid_accumulation_with_ema(name):
    cls, kwargs = SETTINGS[name]
    kwargs = {**kwargs, "use_ema": True, "ema_momentum": 0.8, "gradient_accumulation_steps": 3}
    grads = gradients(11, seed=3)
    straight_params = make_params()
    feed(cls(straight_params, **kwargs), straight_params, grads)

    params = make_params()
    first = cls(params, **kwargs)
    feed(first, params, grads[:5])  # 5 calls: the accumulators and averages are half-way
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    resumed = cls(params, **kwargs)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    feed(resumed, params, grads[5:])
    for a, b in zip(params, straight_params):
        assert torch.equal(a, b)


def test_gradient_accumulation_updates_every_k_calls_with_the_mean_gradient():
    accumulating_params, plain_params = make_params(), make_params()
    accumulating = optim.Adam(accumulating_params, 0.01, gradient_accumulation_steps=3)
    plain = optim.Adam(plain_params, 0.01)
    grads = gradients(9)
    for i, gs in enumerate(grads):
        feed(accumulating, accumulating_params, [gs])
        if i % 3 == 2:
            mean = [sum(grads[j][k] for j in range(i - 2, i + 1)) / 3 for k in range(len(SHAPES))]
            feed(plain, plain_params, [mean])
        for a, b in zip(accumulating_params, plain_params):  # atol/rtol 1e-6: (g1 + g2) + g3 vs g1 + (g2 + g3)
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    assert (accumulating.iterations, accumulating.calls, plain.iterations) == (3, 9, 3)


def test_ema_finalize_writes_the_average_and_scale_loss_round_trips():
    params = make_params()
    optimizer = optim.SGD(params, 0.1, use_ema=True, ema_momentum=0.5, loss_scale_factor=8.0)
    start = [p.detach().clone() for p in params]
    feed(optimizer, params, [[torch.full(s, 8.0) for s in SHAPES]] * 2)  # unscaled: g = 1, so w - 0.1, w - 0.2
    for p, w in zip(params, start):
        torch.testing.assert_close(p.detach(), w - 0.2)  # default tolerance: float32 sums of 0.1
    optimizer.finalize_variable_values()
    for p, w in zip(params, start):  # first step: average = w1; second: 0.5 * w1 + 0.5 * w2
        torch.testing.assert_close(p.detach(), w - 0.15)
    assert optimizer.scale_loss(torch.tensor(2.0)) == 16.0


def test_exclude_from_weight_decay_by_parameter_and_by_name():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LayerNorm(2))
    for p in model.parameters():
        torch.nn.init.constant_(p, 1.0)
    optimizer = optim.SGD(model.named_parameters(), 0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_list=[model[0].weight], var_names=["bias", r"^1\."])
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    decayed = {name for name, p in model.named_parameters() if not torch.equal(p, torch.ones_like(p))}
    assert decayed == set()  # every parameter is excluded: the weight by identity, the rest by name
    optimizer = optim.SGD(model.named_parameters(), 0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.step()
    decayed = {name for name, p in model.named_parameters() if not torch.equal(p, torch.ones_like(p))}
    assert decayed == {"0.weight", "1.weight"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gradient_accumulation_steps=1), "Adam: gradient_accumulation_steps must be an integer >= 2, got 1"),
        (dict(use_ema=True, ema_momentum=1.5), r"Adam: ema_momentum must be in \[0, 1\], got 1.5"),
        (dict(use_ema=True, ema_overwrite_frequency=0), "Adam: ema_overwrite_frequency must be an integer >= 1"),
        (dict(loss_scale_factor=0.0), "Adam: loss_scale_factor must be > 0 and finite, got 0.0"),
    ],
)
def test_base_options_are_checked_with_the_optimizer_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Adam(make_params(), **kwargs)


def test_unknown_keyword_is_refused_not_stored():
    with pytest.raises(TypeError, match=r"Lamb got unexpected keyword argument\(s\) \['use_emma'\]"):
        optim.Lamb(make_params(), use_emma=True)


def test_exclude_from_weight_decay_needs_names_and_an_unbuilt_optimizer():
    params = make_params()
    optimizer = optim.AdamW(params)
    with pytest.raises(ValueError, match=r"needs parameter names: build the optimizer from model.named_parameters"):
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    feed(optimizer, params, gradients(1))
    with pytest.raises(ValueError, match="must be called before the first step"):
        optimizer.exclude_from_weight_decay(var_list=params)


def test_lion_refuses_beta_1_zero_as_keras_does():
    with pytest.raises(ValueError, match=r"Lion: beta_1 must be in \(0, 1\]"):
        optim.Lion(make_params(), beta_1=0.0)

"""The levels of a parity check between a Keras model and a torch model, each returning :class:`Check` records.

A :class:`ModelPair` holds the two models and the :class:`~ptref.parity.mapping.KerasMap` between them (the torch
model's ``keras_map()``, or :func:`~ptref.parity.infer.infer_map`'s). Inputs are given in Keras's layout (what a
Keras user feeds ``model.fit``); the pair moves them to the torch layout the map names. Levels:

* :func:`forward` — inference outputs, and every mapped layer's output (Keras: a ``keras.Model`` over the layer
  outputs; torch: forward hooks), naming the first layer where the two part;
* :func:`gradient` — ``tf.GradientTape`` vs autograd per parameter, torch gradients moved to Keras's layout by
  ``WeightLink.to_keras`` and paired by Keras weight name;
* :func:`step` — the weights after one optimizer step (Keras's optimizer; torch: ``ptref.optim``'s twin of its
  config), moving statistics included;
* :func:`trajectory` — N steps on the same batches in the same order (torch through the Lightning ``Trainer``);
* :func:`round_trip` — Keras → torch → Keras and torch → Keras → torch through the map, and a ``.keras`` file.

Dropout is switched off in both models for the gradient, step and trajectory levels (rates set to 0 while they run):
the two frameworks draw different masks. TensorFlow is imported inside the functions, through :mod:`ptref.parity.tf`.
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ptref.parity import tolerance as T
from ptref.parity.infer import infer_map, keras_weight_names, to_torch_input
from ptref.parity.mapping import KerasMap, WeightLink
from ptref.parity.report import Check, difference
from ptref.parity.tf import import_keras, import_tensorflow

TorchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (y_true, raw torch output) -> scalar
ADAPTIVE = {"rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam", "lion", "lamb", "ftrl", "adafactor"}
# Keras's output activations that a torch model returning logits leaves to the loss: the same function in torch
TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "softmax": lambda t: torch.softmax(t, dim=-1), "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
}


@dataclass
class ModelPair:
    """A Keras model, a torch model and the map between them; ``name`` labels the report's rows.

    ``torch_output`` turns the torch model's output into what the Keras model outputs (default: the activation the
    map's last layer link carries, e.g. softmax over logits; none when it carries none).
    """

    keras_model: Any
    torch_model: nn.Module
    map: KerasMap
    name: str = "model"
    torch_output: Callable[[torch.Tensor], torch.Tensor] | None = None
    map_origin: str = "keras_map()"
    variables: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        names = keras_weight_names(self.keras_model, {link.keras for link in self.map.weights})
        self.variables = {names[id(w)]: w for w in self.keras_model.weights}
        missing = [link.keras for link in self.map.weights if link.keras not in self.variables]
        if missing:
            raise ValueError(f"the map names Keras weights the model lacks: {missing}; it has {list(self.variables)}")
        if self.torch_output is None and self.map.layers and self.map.layers[-1].activation:
            activation = self.map.layers[-1].activation
            if activation not in TORCH_ACTIVATIONS:
                raise ValueError(f"the Keras model ends in activation {activation!r}, the torch model without it: "
                                 "pass torch_output (a function of the torch output giving Keras's)")
            self.torch_output = TORCH_ACTIVATIONS[activation]

    def torch_input(self, keras_input: np.ndarray) -> torch.Tensor:
        return to_torch_input(keras_input, self.map.input_layout)

    def output(self, keras_input: np.ndarray, training: bool = False) -> torch.Tensor:
        """The torch model's output as Keras's (``torch_output`` applied)."""
        self.torch_model.train(training)
        out = self.torch_model(self.torch_input(keras_input))
        return self.torch_output(out) if self.torch_output else out

    def tensor(self, link: WeightLink) -> torch.Tensor:
        tensors = {**dict(self.torch_model.named_parameters()), **dict(self.torch_model.named_buffers())}
        if link.torch not in tensors:
            raise ValueError(
                f"the map names torch tensor {link.torch!r}, which {type(self.torch_model).__name__} lacks"
            )
        tensor = tensors[link.torch]
        return tensor if link.index is None else tensor[link.index]

    def keras_to_torch(self) -> None:
        """Copy every mapped Keras weight into the torch model (bit copies through ``to_torch``)."""
        with torch.no_grad():
            for link in self.map.weights:
                array = np.array(link.to_torch(np.asarray(self.variables[link.keras])), order="C")  # 0-d stays 0-d
                value = torch.from_numpy(array)
                target = self.tensor(link)
                if tuple(value.shape) != tuple(target.shape):
                    raise ValueError(f"Keras weight {link.keras} {tuple(value.shape)} maps to torch {link.torch} "
                                     f"{tuple(target.shape)}: the architectures differ")
                target.copy_(value.to(target.dtype))

    def torch_to_keras(self) -> None:
        """Assign the torch model's weights to the Keras model's variables."""
        for name, array in self.torch_as_keras().items():
            self.variables[name].assign(array)

    def torch_as_keras(self, gradients: bool = False) -> dict[str, np.ndarray]:
        """The torch weights (or, ``gradients``, their ``.grad`` for the trainable ones) in Keras's layout."""
        arrays = {}
        for link in self.map.weights:
            tensor = self.tensor(link)
            if gradients:
                if not link.trainable:
                    continue
                base = self.tensor(WeightLink(link.keras, link.torch))
                grad = torch.zeros_like(base) if base.grad is None else base.grad.to_dense()  # an Embedding's is sparse
                tensor = grad if link.index is None else grad[link.index]
            arrays[link.keras] = np.asarray(link.to_keras(tensor.detach().cpu().numpy().copy()))
        return arrays

    def keras_arrays(self) -> dict[str, np.ndarray]:
        return {link.keras: np.asarray(self.variables[link.keras]) for link in self.map.weights}

    @property
    def has_batchnorm(self) -> bool:
        keras = import_keras()
        return any(isinstance(layer, keras.layers.BatchNormalization) for layer in self.keras_model.layers)


def pair(keras_model: Any, torch_model: nn.Module, keras_input: np.ndarray, name: str = "model",
         torch_output: Callable[[torch.Tensor], torch.Tensor] | None = None) -> ModelPair:
    """A :class:`ModelPair` with the torch model's ``keras_map()``, or the map inferred by layer order."""
    if hasattr(torch_model, "keras_map"):
        return ModelPair(keras_model, torch_model, torch_model.keras_map(), name, torch_output)
    kmap = infer_map(keras_model, torch_model, np.asarray(keras_input[:1]))
    return ModelPair(keras_model, torch_model, kmap, name, torch_output, map_origin="inferred by layer order")


@contextlib.contextmanager
def restored(p: ModelPair) -> Iterator[None]:
    """Both models' weights (and torch buffers) as they were, after the block."""
    keras_weights = p.keras_model.get_weights()
    state = copy.deepcopy(p.torch_model.state_dict())
    try:
        yield
    finally:
        p.keras_model.set_weights(keras_weights)
        p.torch_model.load_state_dict(state)
        p.torch_model.zero_grad(set_to_none=True)


@contextlib.contextmanager
def dropout_off(p: ModelPair) -> Iterator[int]:
    """Every Keras ``Dropout`` and torch ``nn.Dropout*`` at rate 0 inside the block; yields how many were."""
    keras = import_keras()
    layers = [layer for layer in p.keras_model.layers if isinstance(layer, keras.layers.Dropout)]
    modules = [m for m in p.torch_model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]
    rates, ps = [layer.rate for layer in layers], [m.p for m in modules]
    for layer in layers:
        layer.rate = 0.0
    for module in modules:
        module.p = 0.0
    try:
        yield len(layers) + len(modules)
    finally:
        for layer, rate in zip(layers, rates):
            layer.rate = rate
        for module, rate in zip(modules, ps):
            module.p = rate


# ---------------------------------------------------------------- losses and optimizers on both sides
def keras_loss_fn(loss: Any) -> Callable[[Any, Any], Any]:
    """``(y_true, y_pred) -> scalar`` from a Keras loss name, config, object or callable (per-sample: averaged)."""
    keras = import_keras()
    function = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss
    return lambda y, out: keras.ops.mean(function(y, out))


def torch_loss_fn(loss: Any, p: ModelPair) -> TorchLoss:
    """The ``ptref.losses`` twin of the Keras loss, on the torch output made Keras's (``torch_output``)."""
    from ptref import losses

    if not isinstance(loss, (str, dict)):
        raise ValueError("a Keras loss object or function has no automatic torch twin: pass torch_loss as well")
    function = losses.get(loss)
    return lambda y, out: function(y, p.torch_output(out) if p.torch_output else out).mean()


def keras_optimizer(optimizer: Any) -> Any:
    """A fresh Keras optimizer from a name, a config dict or an optimizer (whose config is copied)."""
    keras = import_keras()
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    if isinstance(optimizer, str):
        return keras.optimizers.get(optimizer)
    return keras.optimizers.deserialize(optimizer)


def torch_optimizer_factory(keras_opt: Any) -> Callable[[Any], torch.optim.Optimizer]:
    """``ptref.optim``'s Keras-exact twin of ``keras_opt``'s configuration."""
    import ptref.optim

    keras = import_keras()
    return ptref.optim.get(keras.optimizers.serialize(keras_opt))


def _tensor_targets(y: np.ndarray) -> torch.Tensor:
    array = np.asarray(y)
    dtype = np.int64 if np.issubdtype(array.dtype, np.integer) else np.float32
    return torch.from_numpy(array.astype(dtype))


# ---------------------------------------------------------------- level 1: forward, per layer
def forward(p: ModelPair, x: np.ndarray, output_tolerance: T.Tolerance = T.FORWARD,
            layer_tolerance: T.Tolerance = T.LAYER, what: str = "outputs", expect_failure: bool = False) -> list[Check]:
    """Inference outputs (``output_tolerance``) and every mapped layer's output (``layer_tolerance``, scaled to the
    layer's largest Keras value); the layer check's ``where`` is the first layer beyond its bound."""
    keras = import_keras()
    tf = import_tensorflow()
    x = np.asarray(x)
    with torch.no_grad():
        mine = p.output(x).numpy()
    theirs = np.asarray(p.keras_model(x, training=False))
    checks = [Check("forward", p.name, what, *difference(theirs, mine), output_tolerance, expect_failure, "output",
                    {"examples": len(x)})]
    links = [link for link in p.map.layers if link.keras]
    if not links:
        return checks
    inputs = p.keras_model.inputs
    probe = keras.Model(
        inputs[0] if len(inputs) == 1 else inputs, [p.keras_model.get_layer(link.keras).output for link in links]
    )
    keras_outputs = probe(x, training=False)
    keras_outputs = keras_outputs if isinstance(keras_outputs, (list, tuple)) else [keras_outputs]
    torch_outputs = _hooked_outputs(p, x, [link.torch for link in links])
    per_item, per_layer, first = {}, [], ""
    for link, expected, actual in zip(links, keras_outputs, torch_outputs):
        actual = np.moveaxis(actual, 1, -1) if link.layout == "channels_first" else actual
        if link.activation:
            actual = np.asarray(keras.activations.get(link.activation)(tf.constant(actual)))
        expected = np.asarray(expected)
        label = f"{link.keras} ↔ {link.torch or '(model)'}"
        if expected.shape != actual.shape:
            gap, abs_diff = float("inf"), float("inf")
        else:
            gap = float(np.max(layer_tolerance.gap(actual, expected), initial=0.0))
            abs_diff = difference(expected, actual)[0]
        per_item[label] = gap
        per_layer.append({"keras": link.keras, "torch": link.torch, "max_abs": abs_diff, "gap": gap,
                          "keras_shape": list(expected.shape), "torch_shape": list(actual.shape)})
        first = first or (label if gap > layer_tolerance.value else "")
    metric = max(per_item.values())
    where = first or max(per_item, key=per_item.get)
    checks.append(Check("forward", p.name, f"{what}, layer by layer ({len(links)} layers)",
                        max(r["max_abs"] for r in per_layer), metric, layer_tolerance, expect_failure, where,
                        {"per_item": per_item, "per_layer": per_layer, "first_parting_layer": first}))
    return checks


def _hooked_outputs(p: ModelPair, x: np.ndarray, names: list[str]) -> list[np.ndarray]:
    modules = dict(p.torch_model.named_modules())
    unknown = [name for name in names if name not in modules]
    if unknown:
        raise ValueError(f"the map names torch submodules {type(p.torch_model).__name__} lacks: {unknown}")
    seen: dict[str, np.ndarray] = {}

    def keep(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:  # None: the output stays as it is
            seen.setdefault(name, output.detach().numpy().copy())

        return hook

    hooks = [modules[name].register_forward_hook(keep(name)) for name in dict.fromkeys(names)]
    try:
        with torch.no_grad():
            p.torch_model.eval()(p.torch_input(x))
    finally:
        for hook in hooks:
            hook.remove()
    return [seen[name] for name in names]


# ---------------------------------------------------------------- level 2: gradients
def gradient(p: ModelPair, x: np.ndarray, y: np.ndarray, loss: Any, torch_loss: TorchLoss | None = None,
             tolerance: T.Tolerance | None = None) -> Check:
    """``GradientTape`` vs autograd on one batch, per parameter; S (the bound's scale) is the model's largest
    Keras gradient: a parameter whose true gradient is 0 holds rounding of the terms that cancelled, not its own."""
    tf = import_tensorflow()
    tolerance = tolerance or (T.BATCHNORM_TRAINING if p.has_batchnorm else T.GRADIENT)
    torch_loss = torch_loss or torch_loss_fn(loss, p)
    with restored(p), dropout_off(p):
        p.torch_model.zero_grad(set_to_none=True)
        p.torch_model.train()
        torch_loss(_tensor_targets(y), p.torch_model(p.torch_input(x))).backward()
        mine = p.torch_as_keras(gradients=True)
        with tf.GradientTape() as tape:
            value = keras_loss_fn(loss)(y, p.keras_model(x, training=True))
        names = {id(v): n for n, v in p.variables.items()}
        variables = [v for v in p.keras_model.trainable_weights if names.get(id(v)) in mine]
        theirs = {names[id(v)]: np.asarray(tf.convert_to_tensor(g))  # an Embedding's gradient is IndexedSlices
                  for v, g in zip(variables, tape.gradient(value, variables))}
    scale = max(float(np.max(np.abs(g), initial=0.0)) for g in theirs.values())
    per_parameter = {n: (difference(g, mine[n])[0], float(np.max(tolerance.gap(mine[n], g, scale), initial=0.0)))
                     for n, g in theirs.items()}
    per_item = {n: (gap if tolerance.kind == "rel" else d) for n, (d, gap) in per_parameter.items()}
    worst = max(per_item, key=per_item.get)
    return Check("gradient", p.name, "gradients per parameter", max(d for d, _ in per_parameter.values()),
                 max(g for _, g in per_parameter.values()), tolerance, where=worst,
                 details={"per_parameter": per_parameter, "per_item": per_item, "examples": len(x)})


# ---------------------------------------------------------------- level 3: one optimizer step
def step(p: ModelPair, x: np.ndarray, y: np.ndarray, loss: Any, optimizer: Any = "sgd",
         torch_loss: TorchLoss | None = None, torch_optimizer: Callable[[Any], torch.optim.Optimizer] | None = None,
         tolerance: T.Tolerance | None = None, what: str | None = None, expect_failure: bool = False) -> Check:
    """One step from identical weights and batch: Keras's optimizer vs ``ptref.optim``'s twin (or
    ``torch_optimizer``); every mapped weight compared, BatchNorm moving statistics included."""
    tf = import_tensorflow()
    keras_opt = keras_optimizer(optimizer)
    kind = type(keras_opt).__name__.lower()
    tolerance = tolerance or (T.BATCHNORM_STEP if p.has_batchnorm else T.STEP_ADAPTIVE if kind in ADAPTIVE else T.STEP)
    factory = torch_optimizer or torch_optimizer_factory(keras_opt)
    torch_loss = torch_loss or torch_loss_fn(loss, p)
    with restored(p), dropout_off(p):
        opt = factory(list(p.torch_model.parameters()))
        p.torch_model.train()
        torch_loss(_tensor_targets(y), p.torch_model(p.torch_input(x))).backward()
        opt.step()
        mine = p.torch_as_keras()
        variables = p.keras_model.trainable_weights
        with tf.GradientTape() as tape:
            value = keras_loss_fn(loss)(y, p.keras_model(x, training=True))
        keras_opt.apply_gradients(zip(tape.gradient(value, variables), variables))
        theirs = p.keras_arrays()
    per_weight = {n: difference(theirs[n], mine[n]) for n in theirs}
    worst = max(per_weight, key=lambda n: per_weight[n][0])
    return Check("step", p.name, what or f"weights after one {kind} step", max(d for d, _ in per_weight.values()),
                 max(r for _, r in per_weight.values()), tolerance, expect_failure, worst,
                 {"per_weight": per_weight, "optimizer": kind})


# ---------------------------------------------------------------- level 4: N steps on the same batches
def trajectory(p: ModelPair, x: np.ndarray, y: np.ndarray, loss: Any, optimizer: Any = "adam", steps: int = 20,
               batch_size: int = 32, torch_loss: TorchLoss | None = None, training_step: bool | None = None,
               tolerance: T.Tolerance = T.TRAJECTORY_WEIGHTS) -> list[Check]:
    """``steps`` optimizer steps on consecutive batches of ``(x, y)`` (wrapping around), from identical weights.

    Keras: a ``tf.function`` ``GradientTape`` step. torch: ``Trainer.fit`` with ``ptref.optim``'s twin of the
    optimizer; a LightningModule trains through its own ``training_step`` (``training_step=None``/``True``), a plain
    module (or ``training_step=False``) through a small LightningModule around it with ``torch_loss``. Compared:
    the loss of each step (computed before its update), the weights after every step, the final weights.
    """
    tf = import_tensorflow()
    import lightning.pytorch as pl

    needed = steps * batch_size
    index = np.arange(needed) % len(x)
    x, y = np.asarray(x)[index], np.asarray(y)[index]
    keras_opt = keras_optimizer(optimizer)
    factory = torch_optimizer_factory(keras_opt)
    own_step = isinstance(p.torch_model, pl.LightningModule) if training_step is None else training_step
    with restored(p), dropout_off(p) as dropouts:
        torch_losses, torch_weights = _fit_torch(p, x, y, steps, batch_size, factory,
                                                 None if own_step else (torch_loss or torch_loss_fn(loss, p)))
        variables, loss_fn = p.keras_model.trainable_weights, keras_loss_fn(loss)
        keras_opt.build(variables)

        @tf.function
        def train_step(batch_x: Any, batch_y: Any) -> Any:
            with tf.GradientTape() as tape:
                value = loss_fn(batch_y, p.keras_model(batch_x, training=True))
            keras_opt.apply_gradients(zip(tape.gradient(value, variables), variables))
            return value

        keras_losses, weight_gap = [], []
        for i in range(steps):
            batch = slice(i * batch_size, (i + 1) * batch_size)
            keras_losses.append(float(train_step(x[batch], y[batch])))
            theirs = p.keras_arrays()
            weight_gap.append(max(difference(theirs[n], torch_weights[i][n])[0] for n in theirs))
        keras_final = p.keras_arrays()
    names = list(keras_final)
    what = f"{steps} {type(keras_opt).__name__.lower()} steps, batch {batch_size}"
    checks = trajectory_checks(p.name, what, keras_losses, torch_losses, weight_gap,
                               [keras_final[n] for n in names], [torch_weights[-1][n] for n in names], tolerance,
                               names=names)
    for check in checks:
        check.details["dropout_layers_off"] = dropouts
    return checks


def _fit_torch(p: ModelPair, x: np.ndarray, y: np.ndarray, steps: int, batch_size: int,
               factory: Callable[[Any], torch.optim.Optimizer], loss: TorchLoss | None
               ) -> tuple[list[float], list[dict[str, np.ndarray]]]:
    """Train the torch model ``steps`` steps through the Lightning Trainer; each step's loss and weights after it."""
    import lightning.pytorch as pl
    from torch.utils.data import DataLoader, TensorDataset

    losses: list[float] = []
    weights: list[dict[str, np.ndarray]] = []

    class Recorder(pl.Callback):
        def on_train_batch_end(self, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))
            weights.append(p.torch_as_keras())

    model = p.torch_model
    if loss is None:
        module, had = model, "configure_optimizers" in vars(model)
        module.configure_optimizers = lambda: factory(model.parameters())
    else:
        module, had = _LossModule(model, loss, factory), True
    loader = DataLoader(TensorDataset(p.torch_input(x), _tensor_targets(y)), batch_size=batch_size, shuffle=False)
    trainer = pl.Trainer(
        max_steps=steps, max_epochs=-1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
        callbacks=[Recorder()], default_root_dir=tempfile.mkdtemp(prefix="ptref-parity-"), deterministic=True,
    )
    try:
        trainer.fit(module, train_dataloaders=loader)
    finally:
        if not had:
            del model.configure_optimizers
    return losses, weights


class _LossModule:  # built lazily below: lightning is imported only when a trajectory runs
    def __new__(cls, model: nn.Module, loss: TorchLoss, factory: Callable[[Any], torch.optim.Optimizer]) -> Any:
        import lightning.pytorch as pl

        class LossModule(pl.LightningModule):
            """A plain torch module trained on ``loss(y, model(x))``."""

            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
                inputs, targets = batch
                return loss(targets, self.model(inputs))

            def configure_optimizers(self) -> torch.optim.Optimizer:
                return factory(self.model.parameters())

        return LossModule()


def trajectory_checks(model: str, what: str, keras_losses: list[float], torch_losses: list[float],
                      weight_gap: list[float], keras_final: list[np.ndarray], torch_final: list[np.ndarray],
                      weights_tolerance: T.Tolerance, loss_tolerance: T.Tolerance = T.TRAJECTORY_LOSS,
                      names: list[str] | None = None) -> list[Check]:
    """The loss-per-step check (``loss_tolerance``, S = the run's largest loss) and the final-weights check."""
    keras_losses, torch_losses = np.asarray(keras_losses, np.float64), np.asarray(torch_losses, np.float64)
    loss_gap = loss_tolerance.gap(torch_losses, keras_losses)
    final = [difference(a, b) for a, b in zip(keras_final, torch_final)]
    details = {
        "keras_loss": keras_losses.tolist(), "torch_loss": torch_losses.tolist(), "loss_rel_gap": loss_gap.tolist(),
        "weight_abs_gap": [float(g) for g in weight_gap], "max_loss_rel_gap": float(loss_gap.max(initial=0.0)),
    }
    beyond = np.flatnonzero(loss_gap > loss_tolerance.value)  # the first step where the runs part, else the worst
    worst_step = int(beyond[0]) if beyond.size else int(np.argmax(loss_gap)) if loss_gap.size else 0
    worst_weight = int(np.argmax([f[0] for f in final])) if final else 0
    loss = Check("trajectory", model, what + ": loss per step", float(np.max(np.abs(keras_losses - torch_losses))),
                 float(loss_gap.max(initial=0.0)), loss_tolerance, where=f"step {worst_step}", details=details)
    weights = Check("trajectory", model, what + ": final weights", max(f[0] for f in final),
                    max(f[1] for f in final), weights_tolerance,
                    where=(names[worst_weight] if names else f"weight {worst_weight}"), details=details)
    return [loss, weights]


# ---------------------------------------------------------------- level 6: round trips
def round_trip(p: ModelPair) -> list[Check]:
    """Keras → torch → Keras and torch → Keras → torch through the map, and Keras's weights read back from a
    ``.keras`` file: every array bit for bit (``EXACT``)."""
    keras = import_keras()
    with restored(p):
        original = p.keras_arrays()
        p.keras_to_torch()
        back = p.torch_as_keras()
        first = [difference(original[n], back[n]) for n in original]
        state = {k: v.clone() for k, v in p.torch_model.state_dict().items()}
        p.torch_to_keras()
        p.keras_to_torch()
        second = [difference(state[k].numpy(), v.numpy()) for k, v in p.torch_model.state_dict().items()]
        with tempfile.TemporaryDirectory(prefix="ptref-parity-") as folder:
            path = f"{folder}/model.keras"
            p.keras_model.save(path)
            loaded = keras.models.load_model(path, compile=False)
        names = keras_weight_names(loaded, set(original))
        from_file = {names[id(w)]: np.asarray(w) for w in loaded.weights}
        third = [difference(original[n], from_file[n]) for n in original if n in from_file]
    return [
        Check("interop", p.name, "round trip Keras→torch→Keras", *_combine(first), T.EXACT),
        Check("interop", p.name, "round trip torch→Keras→torch", *_combine(second), T.EXACT),
        Check("interop", p.name, "weights read back from a .keras file", *_combine(third), T.EXACT),
    ]


def _combine(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return max((a for a, _ in pairs), default=0.0), max((r for _, r in pairs), default=0.0)

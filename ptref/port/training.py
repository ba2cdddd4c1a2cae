"""A Keras model's ``compile()`` setup in PyTorch: a LightningModule that ``ptref fit`` trains.

TensorFlow original::

    model.compile(optimizer=keras.optimizers.Adam(ExponentialDecay(1e-2, 100, 0.9), clipnorm=1.0),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=5, validation_split=0.1)

PyTorch twin: :class:`PortedModel` (a torch module loaded from a Python file) or :class:`CompiledModel` (any
``nn.Module``) with the compile configuration as Keras serializes it (``model.get_compile_config()``, which is
also what a ``.keras`` file stores under ``compile_config``):

- ``optimizer`` → :func:`ptref.optim.get` (Keras's update rules, schedules, ``clipnorm``/``clipvalue``/
  ``global_clipnorm``, decoupled ``weight_decay``, EMA, loss scale, gradient accumulation);
- ``loss`` → :func:`ptref.losses.get` (``from_logits``, ``label_smoothing``, ``reduction``, ...); the string
  ``"crossentropy"``/``"ce"`` resolves on the first batch by Keras's shape rule, as Keras does;
- ``metrics`` → torchmetrics, resolved on the first batch (:func:`keras_metric`); ``loss_weights`` (one output).

Anything else that changes the numbers is refused with one line naming it (:func:`check_compile_config`). The
step is Keras's: ``loss = loss_weight * loss(y_true, y_pred)`` (Keras's argument order), one optimizer step per
batch; the logged ``train_loss`` per epoch is the batch-size-weighted mean, Keras's ``history["loss"]``.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
import torchmetrics
from torch import Tensor, nn

import ptref.losses
import ptref.optim

KerasConfig = str | dict[str, Any]
# compile() arguments that change no number of a training step (how Keras runs it, not what it computes)
EXECUTION_ONLY = {"run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"}
CROSSENTROPY = ("crossentropy", "ce")
ACCURACY = ("accuracy", "acc")


def check_compile_config(config: dict[str, Any]) -> dict[str, Any]:
    """``model.get_compile_config()`` → ``{"optimizer", "loss", "metrics", "loss_weight"}`` for :class:`CompiledModel`.

    Refused (``ValueError``, one line naming them): a missing loss, per-output losses, metrics or loss weights
    (multi-output models), ``weighted_metrics`` (there are no sample weights in ``ptref fit``'s data) and unknown
    keys. ``run_eagerly``/``steps_per_execution``/``jit_compile`` are how Keras executes, not what it computes:
    accepted and not carried.
    """
    known = {"optimizer", "loss", "metrics", "loss_weights", "weighted_metrics", *EXECUTION_ONLY}
    refused = sorted(set(config) - known)
    if config.get("loss") is None:
        refused.append("loss=None (the model computes its own loss)")
    elif isinstance(config["loss"], (list, tuple)) or _is_per_output(config["loss"]):
        refused.append(f"loss={config['loss']!r} (one loss per output)")
    if config.get("weighted_metrics"):
        refused.append(f"weighted_metrics={config['weighted_metrics']!r}")
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict) or any(isinstance(m, (list, tuple, dict)) and not _is_object(m) for m in metrics):
        refused.append(f"metrics={metrics!r} (metrics per output)")
    weights = config.get("loss_weights")
    if isinstance(weights, dict) or (isinstance(weights, (list, tuple)) and len(weights) != 1):
        refused.append(f"loss_weights={weights!r} (one weight per output)")
    if refused:
        raise ValueError(f"compile options not supported by ptref.port: {'; '.join(refused)}")
    weight = weights[0] if isinstance(weights, (list, tuple)) else weights
    metrics = [metrics] if isinstance(metrics, (str, dict)) else list(metrics)
    for metric in metrics:
        check_metric(metric)
    return {"optimizer": config.get("optimizer", "rmsprop"), "loss": config["loss"], "metrics": metrics,
            "loss_weight": 1.0 if weight is None else float(weight)}


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value


def _is_per_output(loss: Any) -> bool:
    return isinstance(loss, dict) and not _is_object(loss)


def build_optimizer(config: KerasConfig, params: Any) -> torch.optim.Optimizer:
    """``keras.optimizers.deserialize(config)`` on ``params`` (ptref's Keras-exact class), one-line errors."""
    name = config if isinstance(config, str) else config.get("class_name")
    try:
        return ptref.optim.get(config)(params)
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"compile optimizer {name!r}: {error}") from None


def build_loss(config: KerasConfig, y_true: Tensor | None = None, y_pred: Tensor | None = None) -> nn.Module:
    """``keras.losses.get(config)`` as a reducing :class:`ptref.losses.Loss` (a function is wrapped, as Keras does).

    ``"crossentropy"``/``"ce"``: binary, sparse categorical or categorical by :func:`keras_target_kind` of the
    first batch (needs ``y_true`` and ``y_pred``).
    """
    if isinstance(config, str) and config.lower() in CROSSENTROPY:
        if y_true is None or y_pred is None:
            raise ValueError(f"loss {config!r} resolves on the first batch: pass y_true and y_pred")
        kind = keras_target_kind(y_true, y_pred)
        config = {"binary": "binary_crossentropy", "sparse": "sparse_categorical_crossentropy",
                  "categorical": "categorical_crossentropy"}[kind]
    try:
        loss = ptref.losses.get(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"compile loss: {error}") from None
    if isinstance(loss, ptref.losses.Loss):
        return loss
    return ptref.losses.LossFunctionWrapper(loss, name=getattr(loss, "__name__", None))


def keras_target_kind(y_true: Tensor, y_pred: Tensor) -> str:
    """Keras's ``is_binary_or_sparse_categorical`` (``keras/src/trainers/compile_utils.py``): ``"binary"`` when
    the output's last axis is 1; ``"sparse"`` when the targets have a lower rank, or a last axis of 1 against a
    wider output; else ``"categorical"``."""
    if y_pred.shape[-1] == 1:
        return "binary"
    if y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
        return "sparse"
    return "categorical"


class KerasMetric(nn.Module):
    """A torchmetrics metric fed as Keras feeds the metric it stands for: ``update(y_true, y_pred)``.

    ``prepare(y_true, y_pred) -> (preds, target)`` turns Keras's arguments into the torchmetrics ones
    (thresholded predictions, class indices, per-sample values for a mean).
    """

    def __init__(self, metric: torchmetrics.Metric, prepare: Callable[[Tensor, Tensor], tuple[Tensor, ...]]) -> None:
        super().__init__()
        self.metric, self.prepare = metric, prepare

    def update(self, y_true: Tensor, y_pred: Tensor) -> None:
        self.metric.update(*self.prepare(y_true.detach(), y_pred.detach()))


def _binary(threshold: float) -> Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]:
    def prepare(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        # Keras compares y_pred > threshold as it is (torchmetrics would apply a sigmoid to values outside [0, 1])
        return (y_pred > threshold).long().flatten(), y_true.reshape(y_pred.shape).long().flatten()
    return prepare


def _classes(sparse: bool) -> Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]:
    def prepare(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        target = y_true.long() if sparse else y_true.argmax(-1)
        return y_pred.reshape(-1, y_pred.shape[-1]), target.reshape(-1)
    return prepare


def _mean_of(fn: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], tuple[Tensor]]:
    def prepare(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor]:
        return (fn(y_true, y_pred),)
    return prepare


def _flat(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    return y_pred.flatten(), y_true.reshape(y_pred.shape).to(y_pred.dtype).flatten()


# Keras metric (function or class name) → (kind, torchmetrics builder): "classes" metrics get num_classes
_NAMED = {
    "binary_accuracy": "binary", "BinaryAccuracy": "binary",
    "categorical_accuracy": "categorical", "CategoricalAccuracy": "categorical",
    "sparse_categorical_accuracy": "sparse", "SparseCategoricalAccuracy": "sparse",
    "top_k_categorical_accuracy": "top_k", "TopKCategoricalAccuracy": "top_k",
    "sparse_top_k_categorical_accuracy": "sparse_top_k", "SparseTopKCategoricalAccuracy": "sparse_top_k",
}
# Keras metrics whose loss of the same name means something else (CosineSimilarity: +cos vs -cos)
_NOT_LOSSES = {"CosineSimilarity", "cosine_similarity"}


def keras_metric(identifier: KerasConfig, y_true: Tensor, y_pred: Tensor) -> tuple[str, KerasMetric]:
    """``(name, metric)`` for one entry of ``compile(metrics=[...])``, resolved on the first batch as Keras does.

    - ``"accuracy"``/``"acc"``: binary (``y_pred > 0.5``), sparse categorical or categorical accuracy by
      :func:`keras_target_kind`, logged under the name given;
    - the accuracies by name or class (``threshold``, ``k``), ``Precision``/``Recall`` (one threshold, no
      ``top_k``/``class_id``), ``RootMeanSquaredError``: torchmetrics' classes;
    - a Keras loss by name (``"mae"``, ``"mse"``, ``"categorical_crossentropy"``, ...) or metric class of a loss's
      name (``MeanSquaredError``, ``CategoricalCrossentropy(from_logits=True)``, ...): the mean of its per-sample
      values (Keras's ``MeanMetricWrapper``).

    Others (``AUC``, ``F1Score``, ``MeanIoU``, custom metrics, ...) are refused with one line.
    """
    name, cls, config = check_metric(identifier)
    if cls.lower() in ACCURACY:
        cls = {"binary": "BinaryAccuracy", "sparse": "SparseCategoricalAccuracy",
               "categorical": "CategoricalAccuracy"}[keras_target_kind(y_true, y_pred)]
    kind = _NAMED.get(cls)
    if kind == "binary":
        metric = KerasMetric(torchmetrics.classification.BinaryAccuracy(), _binary(config.get("threshold", 0.5)))
    elif kind is not None:
        top_k = config.get("k", 5) if "top_k" in kind else 1
        accuracy = torchmetrics.classification.MulticlassAccuracy(y_pred.shape[-1], top_k=top_k, average="micro")
        metric = KerasMetric(accuracy, _classes(sparse=kind.startswith("sparse")))
    elif cls.lower() in ("precision", "recall"):
        thresholds = config.get("thresholds")
        binary = torchmetrics.classification.BinaryPrecision if cls.lower() == "precision" else (
            torchmetrics.classification.BinaryRecall)
        metric = KerasMetric(binary(), _binary(0.5 if thresholds is None else float(thresholds)))
    elif cls == "RootMeanSquaredError":
        metric = KerasMetric(torchmetrics.MeanSquaredError(squared=False), _flat)
    else:
        found = ptref.losses.registry.ALL_OBJECTS[cls]
        loss_config = {key: value for key, value in config.items() if key not in ("name", "dtype")}
        loss = found.from_config({**loss_config, "reduction": "none"}) if inspect.isclass(found) else (
            ptref.losses.LossFunctionWrapper(found, reduction="none"))
        metric = KerasMetric(torchmetrics.MeanMetric(), _mean_of(loss))
    return name, metric


def check_metric(identifier: KerasConfig) -> tuple[str, str, dict[str, Any]]:
    """``(logged name, Keras class or function name, config)`` of a metric :func:`keras_metric` can build; any
    other is refused with one line naming it (before training, where the shapes are not known yet)."""
    name, cls, config = _parts(identifier)
    if cls.lower() in ("precision", "recall") and (
        config.get("top_k") is not None or config.get("class_id") is not None
        or isinstance(config.get("thresholds"), list)
    ):
        raise ValueError(f"compile metric {name!r} ({cls}): only one threshold, without top_k/class_id, is "
                         f"supported; got {config}")
    known = (cls.lower() in (*ACCURACY, "precision", "recall") or cls in _NAMED or cls == "RootMeanSquaredError"
             or (cls in ptref.losses.registry.ALL_OBJECTS and cls not in _NOT_LOSSES and cls != "Loss"))
    if not known:
        raise ValueError(f"compile metric {name!r} ({cls}) has no torchmetrics counterpart in ptref.port; "
                         f"supported: accuracy, {', '.join(sorted(k for k in _NAMED if k[0].islower()))}, precision, "
                         "recall, RootMeanSquaredError and the Keras losses by name")
    return name, cls, config


def _parts(identifier: KerasConfig) -> tuple[str, str, dict[str, Any]]:
    """``(logged name, Keras class or function name, config)`` of a metric identifier."""
    if isinstance(identifier, str):
        return identifier, identifier, {}
    if _is_object(identifier):
        config = identifier.get("config") or {}
        if identifier["class_name"] == "function":  # a function passed as a metric: config is its name
            return config, config, {}
        return config.get("name", identifier["class_name"]), identifier["class_name"], config
    raise ValueError(f"compile metric {identifier!r} is neither a name nor a serialized Keras metric")


class CompiledModel(pl.LightningModule):
    """Any ``nn.Module`` trained as Keras's ``fit`` trains the model ``compile()`` configured.

    Args:
        module: the network; ``module(x)`` is Keras's ``model(x)`` (same outputs: probabilities where the Keras
            model ends in a softmax).
        optimizer: a Keras optimizer name or ``keras.optimizers.serialize(...)`` dict.
        loss: a Keras loss name or ``keras.losses.serialize(...)`` dict.
        metrics: ``compile(metrics=...)``'s list (names or serialized metrics), see :func:`keras_metric`.
        loss_weight: ``compile(loss_weights=...)`` for the one output.
        example_input_shape: one input's shape with its batch axis, as the torch module takes it (for the
            summary and TensorBoard's graph).
        example_input_dtype: that input's dtype (``"int64"`` for token ids).

    Logs ``train_loss`` (per step and per epoch), ``val_loss``, ``test_loss`` and ``<stage>_<metric name>``.
    """

    def __init__(
        self,
        module: nn.Module,
        optimizer: KerasConfig = "rmsprop",
        loss: KerasConfig = "mse",
        metrics: list[KerasConfig] | None = None,
        loss_weight: float = 1.0,
        example_input_shape: list[int] | None = None,
        example_input_dtype: str = "float32",
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["module"])
        self.module = module
        build_optimizer(optimizer, [nn.Parameter(torch.zeros(1))])  # refuse a bad optimizer config now, not later
        for metric in metrics or []:
            check_metric(metric)
        lazy = isinstance(loss, str) and loss.lower() in CROSSENTROPY
        self.loss_fn: nn.Module | None = None if lazy else build_loss(loss)
        self.stage_metrics = nn.ModuleDict()  # stage -> ModuleDict(name -> KerasMetric), built on the first batch
        if example_input_shape is not None:
            self.example_input_array = torch.zeros(*example_input_shape, dtype=getattr(torch, example_input_dtype))

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)

    def _step(self, batch: list[Tensor], stage: str) -> Tensor:
        x, y_true = batch
        y_pred = self(x)
        if self.loss_fn is None:
            self.loss_fn = build_loss(self.hparams.loss, y_true, y_pred)
        loss = self.hparams.loss_weight * self.loss_fn(y_true, y_pred)
        size = len(x)
        self.log(f"{stage}_loss", loss, on_step=stage == "train", on_epoch=True, prog_bar=True, batch_size=size)
        for name, metric in self._metrics(stage, y_true, y_pred).items():
            metric.update(y_true, y_pred)
            self.log(f"{stage}_{name}", metric.metric, on_step=False, on_epoch=True, prog_bar=True, batch_size=size)
        return loss

    def _metrics(self, stage: str, y_true: Tensor, y_pred: Tensor) -> nn.ModuleDict:
        key = f"{stage}_metrics"  # not "train": nn.Module has a train() method
        if key not in self.stage_metrics:
            built = dict(keras_metric(m, y_true, y_pred) for m in self.hparams.metrics or [])
            self.stage_metrics[key] = nn.ModuleDict(built).to(y_pred.device)
        return self.stage_metrics[key]

    def training_step(self, batch: list[Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: list[Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: list[Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: list[Tensor], batch_idx: int) -> Tensor:
        return self(batch[0])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return build_optimizer(self.hparams.optimizer, self.module.parameters())


def load_module(module_file: str, module_function: str = "load_model") -> nn.Module:
    """``module_function()`` of the Python file ``module_file`` (the port's ``DIR/model.py``), loaded by its path:
    the import path stays as it is."""
    path = Path(module_file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such Python file (module_file)")
    spec = importlib.util.spec_from_file_location(f"ptref_port_{path.stem}", path)
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    function = getattr(source, module_function, None)
    if not callable(function):
        raise ValueError(f"{path}: defines no function {module_function!r} (module_function)")  # noqa: TRY004
    module = function()
    if not isinstance(module, nn.Module):
        raise ValueError(f"{path}: {module_function}() returned {type(module).__name__}, not a torch nn.Module")  # noqa: TRY004
    return module


class PortedModel(CompiledModel):
    """:class:`CompiledModel` whose module is ``module_function()`` of the Python file ``module_file``.

    What ``ptref fit`` trains from the YAML :func:`ptref.port.config.write_fit_config` writes. The other
    arguments are :class:`CompiledModel`'s.
    """

    def __init__(
        self,
        module_file: str,
        module_function: str = "load_model",
        optimizer: KerasConfig = "rmsprop",
        loss: KerasConfig = "mse",
        metrics: list[KerasConfig] | None = None,
        loss_weight: float = 1.0,
        example_input_shape: list[int] | None = None,
        example_input_dtype: str = "float32",
    ) -> None:
        super().__init__(load_module(module_file, module_function), optimizer, loss, metrics, loss_weight,
                         example_input_shape, example_input_dtype)
        self.save_hyperparameters()

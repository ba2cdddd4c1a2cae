"""What Keras's ``fit`` does with its optimizer beyond ``apply``: the EMA weights (``use_ema=True``) swapped in for
evaluation and kept at the end, and the loss scale applied before backward. Exported with the other Keras
callbacks from :mod:`ptref.callbacks.keras`.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch


def _ema_optimizers(trainer: pl.Trainer) -> list[torch.optim.Optimizer]:
    """The trainer's optimizers that keep an EMA (``use_ema=True``), a ``LossScaleOptimizer`` seen through."""
    inner = [getattr(o, "inner_optimizer", o) for o in trainer.optimizers]
    return [o for o in inner if getattr(o, "use_ema", False)]


@torch.no_grad()
def _swap_with_averages(optimizer: torch.optim.Optimizer) -> None:
    """Exchange every parameter with its moving average, in place (Keras swaps with ``assign``, as here)."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            average = optimizer.state[param].get("average")
            if average is not None:
                weights = param.detach().clone()
                param.copy_(average)
                average.copy_(weights)


class SwapEMAWeights(pl.Callback):
    """``keras.callbacks.SwapEMAWeights``: validate, test and predict with the optimizer's EMA weights.

    Before validation, test or prediction every parameter is exchanged with its moving average (the optimizer's
    ``"average"`` state, ``use_ema=True``), and exchanged back after. With ``swap_on_epoch`` the EMA weights are
    also in the model from the end of each training epoch (so checkpoints written then hold them) to the start of
    the next; after the last epoch (``max_epochs``) the averages are set to those EMA weights, so that the
    end-of-fit :class:`FinalizeEMA` keeps them, as Keras does. Before the first step there is no average (Lightning's
    sanity check) and nothing is exchanged. A fit without an EMA optimizer raises, as in Keras. Keras 3.15.1's
    ``on_predict_end`` leaves the EMA weights in the model (its test reads ``if not self._ema_weights_in_model``);
    here prediction swaps back like validation and test.
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _swap(self, trainer: pl.Trainer) -> None:
        optimizers = _ema_optimizers(trainer)
        if not optimizers:
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer")
        for optimizer in optimizers:
            _swap_with_averages(optimizer)
        self._ema_weights_in_model = not self._ema_weights_in_model

    def _swap_in(self, trainer: pl.Trainer) -> None:
        if not self._ema_weights_in_model and trainer.optimizers:
            self._swap(trainer)

    def _swap_out(self, trainer: pl.Trainer) -> None:
        if self._ema_weights_in_model:
            self._swap(trainer)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.swap_on_epoch:
            self._swap_out(trainer)

    @torch.no_grad()
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.swap_on_epoch:
            return
        self._swap_in(trainer)
        if trainer.current_epoch == trainer.max_epochs - 1:  # FinalizeEMA then writes these EMA weights back
            for optimizer in _ema_optimizers(trainer):
                for group in optimizer.param_groups:
                    for param in group["params"]:
                        if "average" in optimizer.state[param]:
                            optimizer.state[param]["average"].copy_(param)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_in(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_out(trainer)

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_in(trainer)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_out(trainer)

    def on_predict_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_in(trainer)

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._swap_out(trainer)


class FinalizeEMA(pl.Callback):
    """What Keras's ``fit`` does after its last epoch: ``optimizer.finalize_variable_values()`` (weights = EMA).

    For every optimizer with ``use_ema=True`` (a ``LossScaleOptimizer`` passes it on), at ``on_train_end``; for
    any other optimizer it does nothing, which is why ``ptref fit`` adds it by default. Keras calls it before any
    callback's ``on_train_end``; Lightning calls ``on_train_end`` in the order of ``trainer.callbacks``, so put
    this one first if another callback's ``on_train_end`` must see the final weights. Checkpoints written during
    training hold the training weights and the averages (in the optimizer state), as Keras's do.
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for optimizer in trainer.optimizers:
            finalize = getattr(optimizer, "finalize_variable_values", None)
            if finalize is not None:
                finalize()


class ScaleLoss(pl.Callback):
    """What Keras's ``train_step`` does: back-propagate ``optimizer.scale_loss(loss)`` (``loss_scale_factor``,
    ``LossScaleOptimizer``); the logged loss stays unscaled, as in Keras.

    Lightning hands ``on_before_backward`` the loss but uses it as it is, so the scale is applied as a gradient
    hook on that loss (``optimizer.scale_loss_in_backward``): the gradients equal those of ``scale_loss(loss)``
    exactly. Without an optimizer that scales it does nothing, which is why ``ptref fit`` adds it by default. With
    several optimizers (manual optimization) that scale, it cannot tell which one a backward serves and raises:
    call ``optimizer.scale_loss(loss)`` in the ``training_step`` and leave this callback out.
    """

    def on_before_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: torch.Tensor) -> None:
        scaling = [o for o in trainer.optimizers if getattr(o, "loss_scale", lambda: None)() is not None]
        if len(scaling) > 1:
            raise ValueError("ScaleLoss: several optimizers scale the loss; call optimizer.scale_loss(loss) in "
                             "training_step and remove the ScaleLoss callback")
        if scaling:
            scaling[0].scale_loss_in_backward(loss)

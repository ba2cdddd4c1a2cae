"""Scaling the loss for an optimizer that unscales the gradients, and refusing a step whose loss was not scaled.

An optimizer with ``loss_scale_factor`` (or a :class:`~ptref.optim.loss_scale.LossScaleOptimizer`) divides the
gradients by its scale, so ``backward()`` must start from ``loss * scale``. Keras's ``fit`` multiplies the loss
itself (``loss = optimizer.scale_loss(loss)`` in ``train_step``); a custom loop must call ``scale_loss``. A
forgotten scale gives no error in Keras, only updates ``scale`` times too small: here the optimizer watches
autograd writing its gradients and raises at ``step()`` when none of the backward passes since the last step went
through a scaled loss. Gradients assigned by hand (``p.grad = g``) are not watched and never refused.
"""

from __future__ import annotations

import weakref

from torch import Tensor


class LossScaling:
    """``scale_loss`` / ``scale_loss_in_backward`` and the step-time check, for an optimizer with ``loss_scale()``.

    Subclasses call :meth:`watch_backward` once their param groups exist and :meth:`check_loss_was_scaled` at
    the start of every step that has gradients.
    """

    _backward_since_step = _scaled_since_step = _scaled_by_hook = False

    def loss_scale(self) -> float | Tensor | None:
        """The current scale; ``None``: the loss is not scaled."""
        raise NotImplementedError

    def scale_loss(self, loss: Tensor) -> Tensor:
        """``loss * scale`` (Keras's ``optimizer.scale_loss``), for ``scale_loss(loss).backward()``.

        In a Lightning fit the callback :class:`~ptref.callbacks.keras.ScaleLoss` scales instead (through
        :meth:`scale_loss_in_backward`); both in one step raise.
        """
        scale = self.loss_scale()
        if scale is None:
            return loss
        scaled = self.multiply_by_scale(loss)
        if scaled.requires_grad:
            scaled.register_hook(self._note_scaled_loss)
        return scaled

    def scale_loss_in_backward(self, loss: Tensor) -> None:
        """Make ``loss.backward()`` compute the gradients of ``scale_loss(loss)``, leaving ``loss`` as it is.

        A hook multiplies the gradient arriving at ``loss`` (1 at the root) by the scale: the same numbers as
        ``scale_loss(loss).backward()``, for a loss that cannot be replaced (Lightning's ``on_before_backward``).
        """
        if self.loss_scale() is not None and loss.requires_grad:
            loss.register_hook(self._scale_gradient)

    def multiply_by_scale(self, tensor: Tensor) -> Tensor:
        """``tensor * loss_scale()``."""
        return tensor * self.loss_scale()

    def _scale_gradient(self, grad: Tensor) -> Tensor:
        self._scaled_by_hook = self._scaled_since_step = True
        return self.multiply_by_scale(grad)

    def _note_scaled_loss(self, grad: Tensor) -> None:
        if self._scaled_by_hook:
            raise RuntimeError(f"{type(self).__name__}: the loss was scaled twice (optimizer.scale_loss(loss) and "
                               "the ScaleLoss callback); in a Lightning fit return the unscaled loss")
        self._scaled_since_step = True

    def check_loss_was_scaled(self) -> None:
        """Raise if autograd wrote gradients since the last step but no backward went through a scaled loss."""
        unscaled = self._backward_since_step and not self._scaled_since_step
        self._backward_since_step = self._scaled_since_step = self._scaled_by_hook = False
        if unscaled and self.loss_scale() is not None:
            raise RuntimeError(
                f"{type(self).__name__}: the loss was not scaled (scale {float(self.loss_scale())}): use "
                "loss = optimizer.scale_loss(loss) before backward() (ptref's fit: callback ScaleLoss)"
            )

    def watch_backward(self) -> None:
        """Note every gradient autograd accumulates into one of the parameters (a weak reference to ``self``)."""
        ref = weakref.ref(self)

        def seen(_: Tensor) -> None:
            watching = ref()
            if watching is not None:
                watching._backward_since_step = True

        for group in self.param_groups:
            for param in group["params"]:
                if param.requires_grad:
                    param.register_post_accumulate_grad_hook(seen)

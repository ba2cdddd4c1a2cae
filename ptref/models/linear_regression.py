"""The course's house-price model: linear regression trained by plain gradient descent.

TensorFlow course original (TF1 graph, run in a Session)::

    X = tf.placeholder(tf.float32, [None, 3])          # x0 = 1, area, bedrooms (z-scored)
    y = tf.placeholder(tf.float32, [None, 1])
    W = tf.get_variable("weights", (3, 1), initializer=tf.constant_initializer())   # zeros
    y_pred = tf.matmul(X, W)
    loss_op = 1 / (2 * len(data)) * tf.matmul(y_pred - y, y_pred - y, transpose_a=True)
    train_op = tf.train.GradientDescentOptimizer(learning_rate=0.01).minimize(loss_op)

PyTorch twin: ``y = X·W`` with the ones column (``bias_column=True``, the course's form) or
``nn.Linear(n, 1, bias=True)`` (``bias_column=False``); both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F

from ptref.data.house_price import ColumnStats

LOSSES = ("half_mse", "mse")
INITS = ("zeros", "keras")


class LinearRegression(pl.LightningModule):
    """``price = w1·area [+ w2·bedrooms] + b`` on z-scored data; predictions come back in dollars.

    Args:
        n_features: 1 or 2 (the CLI links it to the data module's ``n_features``).
        bias_column: ``True``: the course's ``y = X·W`` with an explicit ``x0 = 1`` column;
            ``False``: ``nn.Linear(n_features, 1, bias=True)``.
        init: ``"zeros"`` (the course) or ``"keras"`` (Keras Dense: glorot_uniform kernel, zero bias).
        loss: ``"half_mse"`` = 1/(2m)·‖XW − y‖² (the course) or ``"mse"`` = 1/m·‖XW − y‖².
        learning_rate: step size of plain gradient descent (the course: 0.01). ``--optimizer`` on the
            CLI replaces the optimizer altogether.
    """

    def __init__(
        self,
        n_features: int,
        bias_column: bool = True,
        init: str = "zeros",
        loss: str = "half_mse",
        learning_rate: float = 0.01,
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if n_features not in (1, 2):
            raise ValueError(f"n_features must be 1 or 2, got {n_features}")
        self.save_hyperparameters()
        self.example_input_array = torch.zeros(1, n_features)  # traced for TensorBoard's graph (log_graph)
        self.linear: nn.Linear | None = None
        if bias_column:
            self.W = nn.Parameter(torch.zeros(n_features + 1, 1))  # row 0 multiplies x0 = 1
        else:
            self.linear = nn.Linear(n_features, 1, bias=True)
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
        if init == "keras":
            kernel = torch.empty(1, n_features)
            nn.init.xavier_uniform_(kernel)  # Keras glorot_uniform: limit sqrt(6 / (fan_in + fan_out))
            with torch.no_grad():
                self._kernel_and_bias()[0].copy_(kernel.view(-1))
        # The data's column statistics (features, then price), saved with the weights so that predictions come
        # back in raw units (dollars) from a checkpoint alone.
        self.register_buffer("column_mean", torch.zeros(n_features + 1))
        self.register_buffer("column_std", torch.ones(n_features + 1))
        self.register_buffer("trained", torch.tensor(False))

    @property
    def stats(self) -> ColumnStats:
        """The column statistics of the data this model was trained on (identity before training)."""
        return ColumnStats(mean=self.column_mean, std=self.column_std)

    def on_fit_start(self) -> None:
        """Check the data matches the model and keep its column statistics (saved with the weights)."""
        datamodule = self.trainer.datamodule
        if datamodule.n_features != self.hparams.n_features:
            raise ValueError(
                f"the model has {self.hparams.n_features} feature(s) but {datamodule.source} has "
                f"{datamodule.n_features}; build the model with n_features={datamodule.n_features}"
            )
        self.column_mean.copy_(datamodule.stats.mean)
        self.column_std.copy_(datamodule.stats.std)
        self.trained.fill_(True)

    def _kernel_and_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Views of the weights as ``(w [n_features], b [1])`` whichever form the model has."""
        if self.linear is not None:
            return self.linear.weight.view(-1), self.linear.bias.view(-1)
        return self.W[1:].view(-1), self.W[:1].view(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalized features ``[m, n]`` → normalized price ``[m, 1]``."""
        if self.linear is not None:
            return self.linear(x)
        ones = x.new_ones(x.shape[0], 1)  # shape[0], not len(x): a traced graph keeps the batch size free
        return torch.cat([ones, x], dim=1) @ self.W

    def loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``half_mse``: 1/(2m)·Σ(ŷ − y)²; ``mse``: 1/m·Σ(ŷ − y)²."""
        mse = F.mse_loss(prediction, target)
        return 0.5 * mse if self.hparams.loss == "half_mse" else mse

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = self.loss(self(x), y)
        # sync_dist: under DDP the epoch value averages all ranks (a no-op in one process).
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x),
                 sync_dist=True)
        return loss

    def on_train_epoch_end(self) -> None:
        """Log the weights after the epoch's updates, so a learner can watch them converge."""
        self.log_dict(self.coefficients(), on_epoch=True)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", self.loss(self(x), y), prog_bar=True, batch_size=len(x), sync_dist=True)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("test_loss", self.loss(self(x), y), batch_size=len(x), sync_dist=True)

    def predict_step(self, batch: tuple[torch.Tensor], batch_idx: int) -> torch.Tensor:
        """Raw features (area[, bedrooms]) → price in dollars ``[m, 1]``."""
        (raw,) = batch
        if not self.trained:
            raise RuntimeError(
                "this model was never trained, its prediction would be meaningless: pass a checkpoint, "
                "e.g. --ckpt_path runs/house_price/version_0/checkpoints/<name>.ckpt"
            )
        return self.stats.raw_price(self(self.stats.standardize_features(raw).float()))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Plain gradient descent, tf.train.GradientDescentOptimizer: W ← W − lr·∂L/∂W.
        return torch.optim.SGD(self.parameters(), lr=self.hparams.learning_rate)

    def coefficients(self) -> dict[str, float]:
        """The learned ``w1[, w2], b`` in normalized units (the course prints these)."""
        kernel, bias = self._kernel_and_bias()
        names = {f"w{i + 1}": value for i, value in enumerate(kernel.tolist())}
        return {**names, "b": bias.item()}

    def dollar_coefficients(self) -> dict[str, float]:
        """The same line in raw units: ``price = a1·area [+ a2·bedrooms] + c`` dollars."""
        a, c = self.stats.raw_line(*self._kernel_and_bias())
        return {**{f"a{i + 1}": value for i, value in enumerate(a.tolist())}, "c": c.item()}

    def equation(self) -> str:
        """``y = 0.8304·x1 + 0.0008·x2 + 0.0000`` in the course's form (normalized units)."""
        coefficients = self.coefficients()
        terms = [(value, f"x{name[1:]}") for name, value in coefficients.items() if name != "b"]
        return "y = " + linear_sum(terms, coefficients["b"], ".4f")

    def dollar_equation(self, names: Sequence[str]) -> str:
        """``price = 130.65·area + 135.39·bedrooms + 78,586.23``: :meth:`dollar_coefficients` with column names."""
        dollars = self.dollar_coefficients()
        terms = [(dollars[f"a{i + 1}"], name) for i, name in enumerate(names[:-1])]
        return f"{names[-1]} = " + linear_sum(terms, dollars["c"], ",.2f")


def linear_sum(terms: Sequence[tuple[float, str]], constant: float, spec: str) -> str:
    """``a·x1 - b·x2 + c``: each value formatted with ``spec``, its sign written as the operator before it.

    A value that rounds to zero gets ``+`` (``+ 0.0000``, not ``- 0.0000``).
    """
    text = ""
    for value, name in [*terms, (constant, "")]:
        number = f"{abs(value):{spec}}"
        negative = value < 0 and any(digit in number for digit in "123456789")
        magnitude = number + (f"·{name}" if name else "")
        if text:
            text += (" - " if negative else " + ") + magnitude
        else:
            text = ("-" if negative else "") + magnitude
    return text

"""ptref.models SoftmaxRegression / MLP / CNN: Keras's parameter counts, the loss, a few training steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch import Trainer, seed_everything

from ptref.data import MNISTDataModule
from ptref.models import CNN, MLP, SoftmaxRegression


def dense(n_in: int, n_out: int) -> int:
    """Keras Dense parameters: kernel [in, out] + bias [out]."""
    return n_in * n_out + n_out


def conv(kernel: int, c_in: int, c_out: int) -> int:
    """Keras Conv2D parameters: kernel [k, k, in, out] + bias [out]."""
    return kernel * kernel * c_in * c_out + c_out


def n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_course_cnn_has_the_1199882_parameters_keras_reports():
    # 28 -conv3-> 26 -conv3-> 24 -pool2-> 12: 12·12·64 features reach the Dense(128).
    expected = conv(3, 1, 32) + conv(3, 32, 64) + dense(12 * 12 * 64, 128) + dense(128, 10)
    assert expected == 1_199_882  # the course's model.summary()
    assert n_parameters(CNN(layers="course")) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (lambda: SoftmaxRegression(), dense(784, 10)),
        (lambda: MLP(hidden_sizes="course"), dense(784, 512) + dense(512, 512) + dense(512, 10)),
        (lambda: MLP(hidden_sizes="seed"), dense(784, 128) + dense(128, 64) + dense(64, 10)),
        (lambda: MLP(hidden_sizes="simplenet"), dense(784, 64) + dense(64, 10)),
        # 28 -conv-> 26 -pool-> 13 -conv-> 11 -pool-> 5
        (lambda: CNN(layers="convnet"), conv(3, 1, 32) + conv(3, 32, 64) + dense(5 * 5 * 64, 128) + dense(128, 10)),
        # 28 -conv-> 26 -pool-> 13 -conv-> 11 -pool-> 5 -conv-> 3
        (lambda: CNN(layers="deeper"),
         conv(3, 1, 32) + conv(3, 32, 64) + conv(3, 64, 64) + dense(3 * 3 * 64, 64) + dense(64, 10)),
    ],
    ids=["softmax", "mlp-course", "mlp-seed", "simplenet", "convnet", "deeper"],
)
def test_presets_have_the_keras_parameter_counts(model, expected):
    assert n_parameters(model()) == expected


def test_errors_name_the_bad_preset_or_activation():
    with pytest.raises(ValueError, match="unknown CNN preset 'lenet'.*course"):
        CNN(layers="lenet")
    with pytest.raises(ValueError, match="unknown MLP preset 'wide'.*simplenet"):
        MLP(hidden_sizes="wide")
    with pytest.raises(ValueError, match="activation must be one of .*relu.*got 'swish'"):
        MLP(activation="swish")


def test_cnn_refuses_flat_batches_with_the_fix():
    with pytest.raises(ValueError, match="use the data layout 'image'"):
        CNN()(torch.zeros(2, 784))


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_loss_is_categorical_crossentropy_of_the_softmax_for_index_and_one_hot_labels():
    seed_everything(0)
    model = MLP(hidden_sizes="simplenet")
    x, labels = torch.rand(16, 784), torch.randint(0, 10, (16,))
    logits = model(x).detach().numpy().astype(np.float64)
    expected = -log_softmax(logits)[np.arange(16), labels.numpy()].mean()  # Keras CCE, mean over the batch
    for y in (labels, torch.nn.functional.one_hot(labels, 10).float()):
        model.log = lambda *args, **kwargs: None  # no trainer attached
        loss = model.training_step([x, y], 0)
        assert loss.item() == pytest.approx(expected, rel=1e-6)  # float32 vs float64 reference


def test_predict_step_returns_the_argmax_and_its_softmax_probability():
    seed_everything(0)
    model = CNN(layers="convnet").eval()
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        out = model.predict_step([x, torch.arange(5)], 0)
        probabilities = np.exp(log_softmax(model(x).numpy().astype(np.float64)))
    assert out["label"].tolist() == probabilities.argmax(1).tolist()
    np.testing.assert_allclose(out["probability"].numpy(), probabilities.max(1), rtol=1e-5)  # float32 softmax
    assert out["id"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("model", "layout"),
    [
        (lambda: SoftmaxRegression(), "flat"),
        (lambda: MLP(hidden_sizes="course"), "flat"),
        (lambda: MLP(hidden_sizes="seed"), "image"),
        (lambda: MLP(hidden_sizes="simplenet", dropout=0.2, activation="tanh"), "flat"),
        (lambda: CNN(layers="course"), "image"),
        (lambda: CNN(layers="convnet"), "image"),
        (lambda: CNN(layers="deeper"), "image"),
    ],
    ids=["softmax", "mlp-course", "mlp-seed-image-layout", "simplenet-dropout-tanh", "cnn-course", "convnet",
         "deeper"],
)
def test_a_few_training_steps_lower_the_loss(tmp_path, mnist_t10k_dir, model, layout):
    seed_everything(0)
    classifier = model()
    datamodule = MNISTDataModule(
        data_dir=str(mnist_t10k_dir), train_files="t10k", test_size=2000, val_size=0, subset=64,
        layout=layout, labels="one_hot", batch_size=32,
    )
    datamodule.setup("fit")
    x, y = next(iter(torch.utils.data.DataLoader(datamodule.train_set, batch_size=64)))
    x = datamodule.normalize(x)

    def loss() -> float:
        classifier.eval()
        with torch.no_grad():
            value = torch.nn.functional.cross_entropy(classifier(x), y).item()
        classifier.train()
        return value

    before = loss()
    trainer = Trainer(
        max_steps=10, limit_val_batches=0, default_root_dir=tmp_path, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(classifier, datamodule=datamodule)
    assert trainer.global_step == 10
    # 5 epochs of Adam 1e-3 over the same 64 digits; measured drops 9% (deeper CNN) to 61% (course MLP).
    # Without a step (e.g. a detached loss) the loss stays equal, with a wrong sign it rises.
    assert loss() < before
    assert {"train_loss_epoch", "train_acc_epoch"} <= set(trainer.callback_metrics)
    assert not list(tmp_path.rglob("*.png"))  # no logger, so no run folder: figures are not dumped anywhere


def test_keras_init_gives_glorot_uniform_kernels_and_zero_biases():
    seed_everything(0)
    model = CNN(layers="course", init="keras")
    dense_layer = next(layer for layer in model.net if isinstance(layer, torch.nn.Linear))  # Dense(128) on the
    assert dense_layer.in_features == 9216  # 9,216 flattened features: 1.18 M draws
    limit = np.sqrt(6 / (9216 + 128))  # glorot_uniform: U(−limit, limit), std = limit/√3
    weights = dense_layer.weight.detach().numpy()
    assert np.abs(weights).max() <= limit
    assert weights.std() == pytest.approx(limit / np.sqrt(3), rel=0.01)  # standard error of the std ≈ 0.1%
    assert all(layer.bias.abs().max() == 0 for layer in model.net if hasattr(layer, "bias"))


def test_the_default_optimizer_is_kerass_adam_with_the_learning_rate():
    from ptref.optim import Adam

    optimizer = MLP(learning_rate=0.01).configure_optimizers()
    assert isinstance(optimizer, Adam) and optimizer.defaults["lr"] == 0.01 and optimizer.defaults["epsilon"] == 1e-7


class LogsEveryStep(SoftmaxRegression):
    """The straightforward way: log loss and accuracy every step, on_step and on_epoch (Lightning averages)."""

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        accuracy = (logits.argmax(dim=1) == (y.argmax(dim=1) if y.ndim == 2 else y)).float().mean()
        self.log_dict({"train_loss": loss, "train_acc": accuracy}, on_step=True, on_epoch=True, prog_bar=True,
                      batch_size=len(x))
        return loss


def logged_metrics(model_class: type, folder, mnist_t10k_dir) -> list[dict[str, str]]:
    import csv

    from lightning.pytorch.loggers import CSVLogger

    seed_everything(0)
    datamodule = MNISTDataModule(data_dir=str(mnist_t10k_dir), train_files="t10k", test_size=2000, val_size=0,
                                 subset=200, layout="flat", labels="one_hot", batch_size=64)  # 64+64+64+8
    trainer = Trainer(max_epochs=3, default_root_dir=folder, logger=CSVLogger(folder, name="", version=0),
                      log_every_n_steps=3, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False)
    trainer.fit(model_class(learning_rate=0.01), datamodule=datamodule)
    with (folder / "version_0" / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_training_metrics_csv_is_the_same_as_with_per_step_logging(tmp_path, mnist_t10k_dir):
    """Epoch values from torchmetrics accumulators, step values only on logged steps: the same metrics.csv."""
    ours = logged_metrics(SoftmaxRegression, tmp_path / "ours", mnist_t10k_dir)
    reference = logged_metrics(LogsEveryStep, tmp_path / "reference", mnist_t10k_dir)
    assert len(ours) == len(reference) == 4 + 3  # steps 2, 5, 8, 11 of 12 (every 3rd), and 3 epoch rows
    for row, expected in zip(ours, reference):
        assert row.keys() == expected.keys()
        for key, value in expected.items():
            assert (row[key] == "") == (value == ""), key
            if value:  # the same float32 sums in another order: 1 ulp at most
                assert float(row[key]) == pytest.approx(float(value), rel=3e-7, abs=0), key
    epoch_accuracies = [float(row["train_acc_epoch"]) for row in ours if row["train_acc_epoch"]]
    assert len(set(epoch_accuracies)) == 3  # reset between epochs, not a running total

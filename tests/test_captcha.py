"""The captcha chapter: generated data (seeded, cached), folder reading, encoding, the model, its losses and metrics."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ptref.cli import main
from ptref.data.captcha import CaptchaDataModule, decode, encode, grayscale, one_hot
from ptref.models.captcha import CaptchaCNN
from ptref.optim import Adam

LOSSES = ["binary_crossentropy", "mean_squared_error", "poisson", "per_head_cross_entropy"]


def generated(cache_dir: Path, **kwargs) -> CaptchaDataModule:
    data = CaptchaDataModule(cache_dir=str(cache_dir), **{"n_train": 12, "n_test": 4, **kwargs})
    data.prepare_data()
    data.setup("fit")
    return data


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> CaptchaDataModule:
    return generated(tmp_path_factory.mktemp("captcha"), n_train=16, seed=3)


def test_same_seed_generates_the_same_bytes_and_another_seed_does_not(tmp_path):
    first, second = generated(tmp_path / "a", seed=7), generated(tmp_path / "b", seed=7)
    other = generated(tmp_path / "c", seed=8)
    for split in ("train_set", "test_set"):
        a, b, c = (getattr(data, split).tensors for data in (first, second, other))
        assert a[0].numpy().tobytes() == b[0].numpy().tobytes() and torch.equal(a[1], b[1])
        assert a[0].numpy().tobytes() != c[0].numpy().tobytes() and not torch.equal(a[1], c[1])


def test_second_setup_reads_the_cache_without_generating_again(tmp_path):
    data = generated(tmp_path, seed=1)
    cached = data.cache_folder / "captcha.npz"
    stamp = cached.stat().st_mtime_ns
    again = generated(tmp_path, seed=1)
    assert again.cache_folder == data.cache_folder and cached.stat().st_mtime_ns == stamp
    assert torch.equal(again.train_set.tensors[0], data.train_set.tensors[0])
    assert generated(tmp_path, seed=1, n_train=13).cache_folder != data.cache_folder  # the key holds the sizes


def write_folder(root: Path, names: dict[str, list[str]], size: tuple[int, int] = (160, 60)) -> None:
    rng = np.random.default_rng(0)
    for split, texts in names.items():
        (root / split).mkdir(parents=True)
        for text in texts:
            Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), np.uint8)).save(root / split / f"{text}.png")


def test_a_folder_of_text_named_pngs_is_read_with_its_labels(tmp_path):
    write_folder(tmp_path, {"train": ["0427", "9310"], "test": ["5555"]})
    data = CaptchaDataModule(data_dir=str(tmp_path))
    data.setup("fit")
    assert decode(data.train_set.tensors[1], "0123456789") == ["0427", "9310"]
    expected = np.asarray(Image.open(tmp_path / "test" / "5555.png").convert("RGB")).transpose(2, 0, 1)
    assert np.array_equal(data.test_set.tensors[0][0].numpy(), expected)


@pytest.mark.parametrize("name", ["04a7", "042", "04271"])
def test_a_file_name_that_is_not_a_captcha_text_is_refused_naming_the_file(tmp_path, name):
    write_folder(tmp_path, {"train": ["0427", name], "test": ["5555"]})
    with pytest.raises(ValueError, match=rf"{name}\.png: the file name must be the captcha's text, 4 characters"):
        CaptchaDataModule(data_dir=str(tmp_path)).setup("fit")


def test_an_image_of_the_wrong_size_is_refused_naming_the_file(tmp_path):
    write_folder(tmp_path, {"train": ["0427"], "test": []})
    write_folder(tmp_path / "other", {"test": ["1234"]}, size=(100, 40))
    (tmp_path / "other" / "test" / "1234.png").rename(tmp_path / "test" / "1234.png")
    with pytest.raises(ValueError, match=r"1234\.png: image is 100x40, expected 160x60"):
        CaptchaDataModule(data_dir=str(tmp_path)).setup("fit")


def test_grayscale_is_the_luma_formula_over_255():
    rgb = np.random.default_rng(1).integers(0, 256, (3, 60, 160, 3), np.uint8)
    expected = np.dot(rgb.astype(np.float64), [0.299, 0.587, 0.114]) / 255
    actual = grayscale(torch.from_numpy(rgb).permute(0, 3, 1, 2)).squeeze(1).numpy()
    # float32: three products of <= 255 summed, then divided: a few ulps of values <= 1
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


def test_encoding_round_trips_and_one_hot_is_the_courses_40_vector():
    texts = ["0427", "9999", "1030"]
    indices = encode(texts, "0123456789")
    assert decode(indices, "0123456789") == texts
    vectors = one_hot(indices, 10)
    assert vectors.shape == (3, 40) and torch.equal(vectors.sum(dim=1), torch.full((3,), 4.0))
    for row, text in zip(vectors, texts):
        assert row.nonzero().flatten().tolist() == [10 * position + int(char) for position, char in enumerate(text)]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert decode(encode(["ZAQX"], letters), letters) == ["ZAQX"]


def test_parameter_count_is_the_courses():
    def conv(k: int, c_in: int, c_out: int) -> int:
        return k * k * c_in * c_out + c_out

    height, width = 60 - 2 - 2, 160 - 2 - 2  # two valid 3x3 convolutions
    height, width = math.ceil(height / 2) - 2, math.ceil(width / 2) - 2  # 'same' pool, valid 3x3 conv
    flat = math.ceil(height / 2) * math.ceil(width / 2) * 64
    expected = conv(3, 1, 32) + conv(3, 32, 32) + conv(3, 32, 64) + 4 * (flat * 10 + 10)
    model = CaptchaCNN()
    assert expected == 1_292_744 and sum(p.numel() for p in model.parameters()) == expected
    assert model(torch.zeros(2, 1, 60, 160)).shape == (2, 4, 10)


@pytest.mark.parametrize("loss", LOSSES)
def test_each_loss_is_finite_and_falls_over_a_few_steps(tiny, loss):
    torch.manual_seed(0)
    model = CaptchaCNN(loss=loss, dropout=0.0)
    images, target = tiny.train_set.tensors
    x = grayscale(images)
    optimizer = Adam(model.parameters(), learning_rate=1e-3)
    values = []
    for _ in range(8):
        optimizer.zero_grad()
        value = model.loss(model(x), target)
        value.backward()
        optimizer.step()
        values.append(value.item())
    assert all(math.isfinite(v) for v in values) and values[-1] < values[0]


def logits_for(indices: torch.Tensor, num_chars: int = 10) -> torch.Tensor:
    return 10 * one_hot(indices, num_chars).view(*indices.shape, num_chars)


def test_a_model_that_reads_nothing_scores_0_9_binary_accuracy_and_0_captchas():
    model = CaptchaCNN()
    target = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    metrics = model.update_metrics("val", torch.zeros(2, 4, 10), target)  # every head: 0.1 everywhere
    assert {name: metric.compute().item() for name, metric in metrics.items()} == pytest.approx(
        {"binary_acc": 36 / 40, "char_acc": 0.0, "captcha_acc": 0.0})


def test_three_of_four_characters_right_is_0_75_per_character_and_no_whole_captcha():
    model = CaptchaCNN()
    target = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    read = target.clone()
    read[:, 0] = 0
    metrics = model.update_metrics("test", logits_for(read), target)
    assert {name: metric.compute().item() for name, metric in metrics.items()} == pytest.approx(
        {"binary_acc": 38 / 40, "char_acc": 0.75, "captcha_acc": 0.0})
    metrics = model.update_metrics("train", logits_for(target), target)
    assert metrics["captcha_acc"].compute().item() == 1.0


def test_predict_step_decodes_the_text_with_its_probabilities():
    model = CaptchaCNN(charset="0123456789")
    model.forward = lambda images: logits_for(encode(["0427", "1111"], "0123456789"))
    output = model.predict_step([torch.zeros(2, 1, 60, 160), torch.tensor([0, 1])], 0)
    assert output["text"] == ["0427", "1111"] and output["probabilities"].shape == (2, 4, 10)
    assert torch.allclose(output["probabilities"].sum(dim=-1), torch.ones(2, 4))
    # ptref serve's contract: per-head labels [B, K] and the probability of each [B, K]
    assert torch.equal(output["label"], encode(["0427", "1111"], "0123456789"))
    assert torch.equal(output["probability"], output["probabilities"].gather(-1, output["label"][..., None])[..., 0])


def test_one_epoch_cli_fit_logs_the_three_accuracies(tmp_path):
    main(["fit", "--model", "CaptchaCNN", "--data", "CaptchaDataModule", "--data.n_train", "64", "--data.n_test", "32",
          "--data.batch_size", "32", "--data.cache_dir", str(tmp_path / "cache"), "--trainer.max_epochs", "1",
          "--trainer.default_root_dir", str(tmp_path / "runs"), "--trainer.enable_progress_bar", "false"])
    with (tmp_path / "runs" / "version_0" / "metrics.csv").open() as file:
        rows = list(csv.DictReader(file))
    for stage in ("train", "val"):
        for name in ("loss", "char_acc", "captcha_acc", "binary_acc"):
            logged = [row for row in rows if row.get(f"{stage}_{name}") or row.get(f"{stage}_{name}_epoch")]
            assert len(logged) == 1, f"{stage}_{name}"


def test_a_model_whose_charset_differs_from_the_datas_is_refused(tmp_path, capsys):
    assert main(["fit", "--model", "CaptchaCNN", "--model.charset", "0123456789ABC", "--data", "CaptchaDataModule",
                 "--data.n_train", "8", "--data.n_test", "8", "--data.cache_dir", str(tmp_path / "cache"),
                 "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path / "runs"),
                 "--trainer.enable_progress_bar", "false"]) == 1
    assert "--model.charset '0123456789ABC' differs from --data.charset '0123456789'" in capsys.readouterr().err

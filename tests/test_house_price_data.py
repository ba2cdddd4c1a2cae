"""HousePriceDataModule: the course CSV format, z-scoring with ddof=1, and clear errors on bad files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptref.data import HousePriceDataModule
from ptref.data.house_price import SYNTHETIC_COEFFICIENTS, read_house_csv


def write(tmp_path, text: str, name: str = "houses.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_columns_are_z_scored_with_the_sample_std_like_pandas(house_price_csv):
    raw = np.loadtxt(house_price_csv, delimiter=",")
    expected = (raw - raw.mean(axis=0)) / raw.std(axis=0, ddof=1)
    data = HousePriceDataModule(csv_path=str(house_price_csv))
    assert data.n_features == 2
    np.testing.assert_allclose(data.features.numpy(), expected[:, :2].astype(np.float32), rtol=0, atol=0)
    np.testing.assert_allclose(data.targets.numpy()[:, 0], expected[:, 2].astype(np.float32), rtol=0, atol=0)
    np.testing.assert_allclose(data.stats.std.numpy(), raw.std(axis=0, ddof=1), rtol=1e-12)


def test_one_feature_file_gives_one_feature(tmp_path):
    data = HousePriceDataModule(csv_path=str(write(tmp_path, "2104,399900\n1600,329900\n2400,369000\n")))
    assert data.n_features == 1 and data.column_names == ("area", "price")


def test_full_batch_is_the_default_and_batch_size_makes_mini_batches(house_price_csv):
    full = HousePriceDataModule(csv_path=str(house_price_csv))
    full.setup("fit")
    assert [len(x) for x, _ in full.train_dataloader()] == [47]
    mini = HousePriceDataModule(csv_path=str(house_price_csv), batch_size=10)
    mini.setup("fit")
    assert [len(x) for x, _ in mini.train_dataloader()] == [10, 10, 10, 10, 7]
    single = HousePriceDataModule(csv_path=str(house_price_csv), batch_size=1)
    single.setup("fit")
    assert len(single.train_dataloader()) == 47


def test_validation_split_is_disjoint_and_seeded(house_price_csv):
    def split(seed):
        data = HousePriceDataModule(csv_path=str(house_price_csv), val_fraction=0.2, split_seed=seed)
        data.setup("fit")
        return data.train_set.tensors[0], data.val_set.tensors[0]

    train, val = split(0)
    assert len(train) + len(val) == 47 and len(val) == round(47 * 0.2)
    rows = {tuple(r) for r in train.tolist()}
    assert not rows & {tuple(r) for r in val.tolist()}
    assert torch.equal(split(0)[1], val) and not torch.equal(split(1)[1], val)


def test_synthetic_default_recovers_its_known_coefficients_by_least_squares():
    data = HousePriceDataModule()
    raw = torch.cat([data.features, data.targets], 1).double() * data.stats.std + data.stats.mean
    design = torch.cat([raw[:, :2], torch.ones(len(raw), 1, dtype=torch.float64)], 1)
    solution = torch.linalg.lstsq(design, raw[:, 2:]).solution.view(-1)
    assert solution[0].item() == pytest.approx(SYNTHETIC_COEFFICIENTS["area"], rel=0.05)
    assert abs(solution[1].item() - SYNTHETIC_COEFFICIENTS["bedrooms"]) < 3 * 2_000  # ~3 standard errors


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("2104,3,399900\n1600,three,329900\n", "line 2", "'three' is not a number"),
        ("area,bedrooms,price\n2104,3,399900\n1600,3,329900\n", "line 1", "no header"),
        ("2104,3,399900\n1600,329900\n", "line 2", "2 columns"),
        ("2104,3,4,399900\n1600,3,4,329900\n", "line 1", "4 columns"),
        ("2104,3,399900\n1600,3,nan\n", "line 2", "not a finite number"),
    ],
    ids=["non-numeric", "header", "ragged", "too-many-columns", "nan"],
)
def test_malformed_csv_names_file_and_line(tmp_path, text, line, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as error:
        read_house_csv(path)
    message = str(error.value)
    assert str(path) in message and line in message and fragment in message


def test_empty_csv_is_refused(tmp_path):
    path = write(tmp_path, "\n\n")
    with pytest.raises(ValueError, match="no data rows") as error:
        HousePriceDataModule(csv_path=str(path))
    assert str(path) in str(error.value)


def test_constant_column_is_refused_instead_of_a_nan_model(tmp_path):
    path = write(tmp_path, "2104,3,399900\n1600,3,329900\n2400,3,369000\n")
    with pytest.raises(ValueError, match="'bedrooms' is constant") as error:
        HousePriceDataModule(csv_path=str(path))
    assert str(path) in str(error.value)


def test_missing_file_says_which(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        HousePriceDataModule(csv_path=str(tmp_path / "nope.csv"))


def test_predict_inputs_must_match_the_feature_count(house_price_csv):
    data = HousePriceDataModule(csv_path=str(house_price_csv), predict_inputs=[[2104.0]])
    with pytest.raises(ValueError, match="rows of 2 value"):
        data.predict_dataloader()

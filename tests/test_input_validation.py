"""Numbers that cannot train must not train: bad CSV values and impossible optimizer settings are refused
(or, for a value that only squeezes the z-scaling, warned about) before any step, naming where they came from."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import ptref.optim as optim
from ptref.data import HousePriceDataModule
from ptref.data.house_price import read_house_csv, standardize
from ptref.optim.schedules import (
    CosineDecay,
    ExponentialDecay,
    KerasScheduleLR,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

ROWS = "2104,3,399900\n1600,3,329900\n2400,3,369000\n1416,2,232000\n3000,4,539900\n1985,4,299900\n"


def write(tmp_path, text: str, name: str = "houses.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def outlier_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if "robust standard deviations" in str(w.message)]


def read_recording_warnings(path) -> tuple[HousePriceDataModule, list[str]]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        data = HousePriceDataModule(csv_path=str(path))
    return data, outlier_warnings(record)


# --- CSV values ---


def test_value_beyond_float32_is_refused_naming_file_line_and_column(tmp_path):
    path = write(tmp_path, ROWS + "1534,3,1e39\n")  # finite in float64, inf in the float32 ptref trains in
    with pytest.raises(ValueError) as error:
        read_house_csv(path)
    message = str(error.value)
    assert str(path) in message and "line 7, column 3" in message and "float32" in message


def test_huge_outlier_warns_naming_file_line_and_column_and_training_data_stays_finite(tmp_path):
    path = write(tmp_path, ROWS + "1534,3,1e30\n" + ROWS)
    data, messages = read_recording_warnings(path)
    assert len(messages) == 1, messages
    assert str(path) in messages[0] and "line 7, column 3 (price)" in messages[0] and "\n" not in messages[0]
    assert torch.isfinite(data.features).all() and torch.isfinite(data.targets).all()


@pytest.mark.parametrize("name", ["data0.csv", "data1.csv"])
def test_outlier_rule_passes_the_course_data_but_flags_one_extra_zero_typed_into_it(tmp_path, house_price_csv, name):
    course = house_price_csv.with_name(name)
    assert read_recording_warnings(course)[1] == []
    lines = course.read_text().splitlines()
    cells = lines[4].split(",")
    cells[-1] += "0"  # a price typed with one zero too many
    lines[4] = ",".join(cells)
    typo = write(tmp_path, "\n".join(lines) + "\n", name)
    messages = read_recording_warnings(typo)[1]
    assert len(messages) == 1 and f"line 5, column {len(cells)} (price)" in messages[0], messages


def test_non_finite_z_scores_are_refused_naming_the_column():
    # The area column's sum overflows float64, so its mean is inf and its z-scores NaN.
    table = torch.tensor([[1.7e308, 1.0], [1.7e308, 2.0], [0.0, 3.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="column 'area'") as error:
        standardize(table, ("area", "price"), "houses.csv")
    assert "houses.csv" in str(error.value)


def test_excel_export_with_byte_order_mark_and_crlf_reads_like_a_plain_csv(tmp_path):
    plain = write(tmp_path, ROWS, "plain.csv")
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"\xef\xbb\xbf" + ROWS.replace("\n", "\r\n").encode())
    assert torch.equal(read_house_csv(excel), read_house_csv(plain))


@pytest.mark.parametrize(("separator", "named"), [(";", "';'"), ("\t", "tab")], ids=["semicolon", "tab"])
def test_foreign_separator_is_named(tmp_path, separator, named):
    path = write(tmp_path, ROWS.replace(",", separator))
    with pytest.raises(ValueError) as error:
        read_house_csv(path)
    message = str(error.value)
    assert str(path) in message and "line 1" in message and f"uses {named} as separator" in message


def test_stray_tab_after_a_value_is_still_only_whitespace(tmp_path):
    trailing_tabs = write(tmp_path, ROWS.replace("\n", "\t\n"), "tabs.csv")
    assert torch.equal(read_house_csv(trailing_tabs), read_house_csv(write(tmp_path, ROWS, "plain.csv")))


def test_file_that_is_not_utf8_text_is_refused_with_its_name(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_bytes(ROWS.encode() + b"\xff\xfe\x00\x01")  # e.g. a spreadsheet saved in a binary format
    with pytest.raises(ValueError) as error:
        read_house_csv(path)
    assert str(path) in str(error.value) and "UTF-8" in str(error.value)


# --- optimizer settings ---

OPTIMIZERS = sorted(optim.OPTIMIZERS.values(), key=lambda cls: cls.__name__)


def params() -> list[torch.Tensor]:
    return [torch.zeros(3, requires_grad=True)]


@pytest.mark.parametrize("learning_rate", [-0.1, 0.0, math.nan, math.inf])
@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_learning_rate_that_cannot_train_is_refused_at_construction(cls, learning_rate):
    with pytest.raises(ValueError, match=f"{cls.__name__}: learning_rate must be > 0, got {learning_rate}"):
        cls(params(), learning_rate=learning_rate)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_param_group_learning_rate_is_checked_too(cls):
    with pytest.raises(ValueError, match="learning_rate must be > 0, got -1"):
        cls([{"params": params()}, {"params": params(), "lr": -1.0}])


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_schedule_is_judged_by_where_training_starts(cls):
    with pytest.raises(ValueError, match=r"learning_rate ExponentialDecay\(.*\) at step 0 must be > 0, got -0.1"):
        cls(params(), learning_rate=ExponentialDecay(-0.1, 10, 0.9))
    with pytest.raises(ValueError, match="at step 0 must be > 0, got 0.0"):
        cls(params(), learning_rate=PiecewiseConstantDecay([5], [0.0, 0.1]))
    cls(params(), learning_rate=CosineDecay(0.0, 50, warmup_target=0.1, warmup_steps=15))  # warmup from 0 trains
    with pytest.raises(ValueError, match="warmup_target must be > 0, got 0.0"):
        cls(params(), learning_rate=CosineDecay(0.0, 50, warmup_target=0.0, warmup_steps=15))


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_schedule_turning_negative_stops_at_that_step(cls):
    weights = params()
    # (0.1 - (-0.1)) * (1 - s/10) - 0.1 is negative from step 6 on
    opt = cls(weights, learning_rate=PolynomialDecay(0.1, 10, end_learning_rate=-0.1))
    with pytest.raises(ValueError, match="gives -0.0[0-9]+ at step 6"):
        for _ in range(10):
            weights[0].grad = torch.ones(3)
            opt.step()
    assert opt.iterations == 6  # steps 0-5 ran (lr >= 0); step 6's rate was refused before any use


def test_keras_schedule_for_a_torch_optimizer_is_checked_too():
    with pytest.raises(ValueError, match="at step 0 must be > 0, got -0.1"):
        KerasScheduleLR(torch.optim.SGD(params(), lr=1.0), ExponentialDecay(-0.1, 10, 0.9))


# (optimizer, hyper-parameter, values refused, value at the edge of what is accepted): Keras checks SGD's
# momentum in [0, 1]; the rest are torch.optim's checks of the same settings (betas in [0, 1), rho in [0, 1],
# epsilon, initial accumulator and weight decay >= 0).
RANGES = [
    (optim.SGD, "momentum", [-0.1, 1.5], 1.0),
    (optim.RMSprop, "rho", [-0.1, 1.5], 1.0),
    (optim.RMSprop, "momentum", [-0.1, 1.5], 0.0),
    (optim.RMSprop, "epsilon", [-1e-7, math.nan], 0.0),
    (optim.Adadelta, "rho", [-0.1, 1.5], 1.0),
    (optim.Adadelta, "epsilon", [-1e-7], 0.0),
    (optim.Adagrad, "initial_accumulator_value", [-0.1], 0.0),
    (optim.Adagrad, "epsilon", [-1e-7], 0.0),
] + [
    (cls, name, values, edge)
    for cls in (optim.Adam, optim.AdamW, optim.Adamax, optim.Nadam)
    for name, values, edge in [
        ("beta_1", [-0.1, 1.0], 0.0), ("beta_2", [1.0, math.inf], 0.0), ("epsilon", [-1e-7], 0.0)
    ]
] + [(cls, "weight_decay", [-0.01], 0.0) for cls in OPTIMIZERS]


@pytest.mark.parametrize(
    ("cls", "name", "refused", "edge"), RANGES, ids=[f"{c.__name__}-{n}" for c, n, _, _ in RANGES]
)
def test_hyperparameter_out_of_range_is_refused_and_its_edge_accepted(cls, name, refused, edge):
    for value in refused:
        with pytest.raises(ValueError, match=f"{cls.__name__}: {name} must be in .*, got {value}"):
            cls(params(), **{name: value})
    cls(params(), **{name: edge})


def test_adamw_refuses_no_weight_decay_as_keras_does():
    with pytest.raises(ValueError, match="AdamW: weight_decay must be a float"):
        optim.AdamW(params(), weight_decay=None)

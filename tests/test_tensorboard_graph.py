"""``ptref fit`` writes the model's data-flow graph into the run's TensorBoard events (the Graphs tab).

Each test reads the event file back with TensorBoard's own event processing (``EventAccumulator``) and finds
the model's nodes there: ``cat`` + ``matmul`` for the course's ``y = X·W`` house-price model, one ``linear``
per Linear layer and one ``_convolution`` per Conv2d layer of the MNIST models (counted from the run's own
checkpoint). The graphs lesson's ``tensorboard_graph`` step reads its traced house-price graph back the same way.
TensorFlow is blocked here, as everywhere in ``tests/``: TensorBoard then uses its own TensorFlow-free stub.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto.graph_pb2 import GraphDef
from torch import nn

from helpers import QUIET
from ptref.cli import main
from ptref.concepts import graphs
from ptref.loggers import TensorBoardLogger
from ptref.models import MLP

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import tensorflow`` raises ImportError, as on a machine without it (even if it is installed here)."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)


def events_of(run: Path) -> EventAccumulator:
    """``run``'s TensorBoard event file, read."""
    events = EventAccumulator(str(run))
    events.Reload()
    return events


def graph_of(run: Path) -> GraphDef:
    """The graph stored in ``run``'s TensorBoard event file."""
    return events_of(run).Graph()


def fit(root: Path, config: str, *flags: str) -> Path:
    """``ptref fit --config experiments/<config>`` into ``root``; returns its run folder."""
    status = main(["fit", "--config", str(REPO / "experiments" / config), "--trainer.default_root_dir", str(root),
                   *QUIET, *flags])
    assert status is None
    return root / "version_0"


def ops(graph: GraphDef) -> Counter[str]:
    return Counter(node.op for node in graph.node)


def upstream(nodes: dict, name: str) -> set[str]:
    """Every node that ``name`` depends on, following the graph's edges (``node.input``) back."""
    seen, todo = set(), list(nodes[name].input)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(nodes[current].input)
    return seen


def test_house_price_graph_is_the_courses_x_times_w(tmp_path: Path, house_price_csv: Path) -> None:
    graph = graph_of(fit(tmp_path, "house_price.yaml", "--data.csv_path", str(house_price_csv),
                         "--trainer.max_epochs", "3"))
    nodes = {node.name: node for node in graph.node}
    (matmul,) = [node for node in graph.node if node.op == "aten::matmul"]  # tf.matmul(X, W)
    (ones_and_x,) = [node for node in graph.node if node.op == "aten::cat"]  # X = [1, area, bedrooms]
    assert ones_and_x.name in matmul.input
    (weights,) = [name for name in matmul.input if nodes[name].op == "prim::GetAttr"]
    assert weights.endswith("/W")  # the variable W
    inputs = {name for name, node in nodes.items() if node.op == "IO Node" and name.startswith("input/")}
    assert inputs and inputs <= upstream(nodes, ones_and_x.name)  # fed by the placeholder X
    (output,) = [node for node in graph.node if node.op == "IO Node" and node.name.startswith("output/")]
    assert list(output.input) == [matmul.name]  # y_pred


def test_house_price_with_nn_linear_and_features_from_the_data(tmp_path: Path, house_price_csv: Path) -> None:
    """The model's n_features, linked from the data, is known before the graph is traced."""
    graph = graph_of(fit(tmp_path, "house_price.yaml", "--data.csv_path", str(house_price_csv),
                         "--trainer.max_epochs", "2", "--model.bias_column", "false"))
    (linear,) = [node for node in graph.node if node.op == "aten::linear"]
    assert "Linear[linear]" in linear.name


@pytest.mark.parametrize("config", ["mnist_softmax_t10k.yaml", "mnist_mlp_t10k.yaml", "mnist_cnn_t10k.yaml"])
def test_mnist_graph_has_a_node_per_layer(config: str, tmp_path: Path, mnist_t10k_dir: Path) -> None:
    run = fit(tmp_path, config, "--data.data_dir", str(mnist_t10k_dir), "--trainer.max_epochs", "1",
              "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1")
    weights = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    kernels = Counter(tensor.ndim for name, tensor in weights.items() if name.endswith(".weight"))
    found = ops(graph_of(run))
    assert found["aten::linear"] == kernels[2] > 0  # Dense kernels are 2-D
    assert found["aten::_convolution"] == kernels[4]  # Conv2D kernels are 4-D (none in softmax/MLP)


def test_tracing_adds_no_deprecation_notice_to_the_fit_output(tmp_path: Path, house_price_csv: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(tmp_path, "house_price.yaml", "--data.csv_path", str(house_price_csv), "--trainer.max_epochs", "2")
    assert not [w for w in caught if "torch.jit" in str(w.message)]
    assert graph_of(tmp_path / "version_0").node


def test_evaluation_writes_no_second_graph(tmp_path: Path, house_price_csv: Path) -> None:
    csv = ["--data.csv_path", str(house_price_csv)]
    fit(tmp_path, "house_price.yaml", *csv, "--trainer.max_epochs", "2")
    assert main(["test", "--config", str(REPO / "experiments" / "house_price.yaml"), *csv, *QUIET,
                 "--trainer.default_root_dir", str(tmp_path), "--ckpt_path", "last"]) is None
    evaluation = events_of(tmp_path / "version_0" / "test")
    assert evaluation.Tags()["scalars"] and not evaluation.Tags()["graph"]


class Noisy(pl.LightningModule):
    """Draws random numbers in its forward even in eval mode, holding a submodule that stays in eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.frozen = nn.BatchNorm1d(2).eval()
        self.example_input_array = torch.zeros(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.frozen(self.linear(x)) + torch.rand(2)


def test_logging_the_graph_leaves_the_model_and_the_random_streams_as_they_were(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Noisy()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    rng = torch.get_rng_state()
    logger = TensorBoardLogger(tmp_path, name="", version=0, log_graph=True)
    logger.log_graph(model)
    logger.finalize("success")
    assert torch.equal(torch.get_rng_state(), rng)  # a resumed run stays bit-exact
    assert model.training and not model.frozen.training
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert ops(graph_of(tmp_path / "version_0"))["aten::rand"] == 1


def test_a_compiled_network_is_traced_through_its_plain_copy(tmp_path: Path) -> None:
    model = MLP(hidden_sizes=[8])
    model.net.compile()  # torch.jit.trace refuses a torch.compile'd module
    logger = TensorBoardLogger(tmp_path, name="", version=0, log_graph=True)
    logger.log_graph(model)
    logger.finalize("success")
    assert ops(graph_of(tmp_path / "version_0"))["aten::linear"] == 2


class DictOutput(pl.LightningModule):
    """A forward whose output ``torch.jit.trace`` (strict) cannot record."""

    def __init__(self) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(1, 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"y": x * 2}


def test_a_model_that_cannot_be_traced_is_warned_about_not_fatal(tmp_path: Path) -> None:
    logger = TensorBoardLogger(tmp_path, name="", version=0, log_graph=True)
    with pytest.warns(UserWarning, match="TensorBoard graph not logged: tracing DictOutput failed"):
        logger.log_graph(DictOutput())


def test_lesson_step_reads_back_x_times_w_fed_by_the_input_and_the_parameter() -> None:
    values = graphs.tensorboard_graph()
    assert values["y_pred"][1] == "aten::matmul"
    (x, x_op), (w, w_op) = values["y_pred's inputs"]
    assert (x_op, w_op) == ("IO Node", "prim::GetAttr") and x.startswith("input/") and w.endswith("/W")
    assert values["gradient and update nodes"] == 0  # a trace holds the forward pass only


def test_ptref_lesson_writes_and_reads_event_files_without_loading_tensorflow() -> None:
    """TensorBoard would load an installed TensorFlow (seconds, and a later ``torch._dynamo`` import would abort)."""
    code = (
        "import sys\n"
        "from ptref.cli import main\n"
        "main(['lesson', 'graphs', '--no-tf', '--step', 'tensorboard_graph'])\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "aten::matmul" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "False"

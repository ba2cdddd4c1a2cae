"""``ptref lesson``: lists, shows both sides, works without TensorFlow or without compare/, keeps its docs page fresh.

TensorFlow is blocked in every test here (``tests/`` never runs it); ``compare/test_concepts_tf.py`` runs the
lessons with TensorFlow live.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ptref.cli import main as ptref_main
from ptref.concepts import lesson

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "side-by-side.md"


@pytest.fixture(autouse=True)
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import tensorflow`` raises ImportError, as on a machine without it (even if it is installed here)."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)


def test_lesson_without_a_name_lists_every_lesson(capsys: pytest.CaptureFixture[str]) -> None:
    assert ptref_main(["lesson"]) == 0
    listing = capsys.readouterr().out
    for name in lesson.LESSONS:
        assert f"  {name} " in listing


@pytest.mark.parametrize("name", lesson.LESSONS)
def test_every_lesson_runs_without_tensorflow(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert ptref_main(["lesson", name, "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow: not run" in out and "TensorFlow is not installed" in out
    module = lesson.concept(name)
    for step in module.STEPS:
        assert f"def {step.__name__}(" in out  # both sides' code is shown ...
    assert out.count("TensorFlow not run: see the top") == len(module.STEPS)  # ... TF's values are not
    assert out.count("→ ") >= len(module.STEPS)  # PyTorch's are


def test_missing_compare_folder_is_explained(monkeypatch, capsys) -> None:
    monkeypatch.setattr(lesson, "TWINS_DIR", Path("/nonexistent/compare/concepts"))
    assert lesson.main(["autograd", "--step", "square_derivative"]) == 0
    out = capsys.readouterr().out
    assert "not found" in out and "source checkout" in out
    assert "(no TensorFlow twin of this step)" in out
    assert "→ dy/dx = 6.0" in out


def test_every_step_and_helper_has_a_tensorflow_twin_of_the_same_name() -> None:
    for name in lesson.LESSONS:
        module = lesson.concept(name)
        for function in (*getattr(module, "HELPERS", ()), *module.STEPS):
            assert lesson.function_source(lesson.twin_path(name), function.__name__), (name, function.__name__)


@pytest.mark.parametrize("name", ["autograd", "sparse", "data_pipelines", "fusion", "text"])
def test_shown_code_is_the_code_that_runs(name: str) -> None:
    """Executing the printed PyTorch code gives back what the step returns."""
    steps, _ = lesson.run_lesson(name, run_tf=False)
    module = lesson.concept(name)
    for step in steps:
        if step.is_helper:
            continue
        namespace = dict(vars(module))
        exec(compile(step.torch.code, f"<shown {step.name}>", "exec"), namespace)  # noqa: S102
        assert namespace[step.name]() == step.torch.values, step.name


def test_docstrings_are_left_out_of_the_shown_code() -> None:
    code = lesson.function_source(REPO / "ptref" / "concepts" / "autograd.py", "worked_example")
    function = ast.parse(code).body[0]
    assert ast.get_docstring(function) is None
    assert inspect.getdoc(lesson.concept("autograd").worked_example).startswith("The course's worked example")


def test_wide_terminal_puts_the_sides_next_to_each_other(capsys) -> None:
    lesson.main(["autograd", "--step", "square_derivative", "--width", "160"])
    lines = capsys.readouterr().out.splitlines()
    assert any("TensorFlow · " in line and "│ PyTorch · " in line for line in lines)


def test_narrow_terminal_stacks_tensorflow_above_pytorch(capsys) -> None:
    lesson.main(["autograd", "--step", "square_derivative", "--width", "70"])
    lines = capsys.readouterr().out.splitlines()
    assert "│" not in "\n".join(lines)
    tf_row = next(i for i, line in enumerate(lines) if line.startswith("TensorFlow · "))
    torch_row = next(i for i, line in enumerate(lines) if line.startswith("PyTorch · "))
    assert tf_row < torch_row


@pytest.mark.parametrize(
    ("name", "figure", "options"),
    [
        ("training_loop", "loss_curves.png", []),
        ("gradients", "gradient_norms.png", []),
        ("activations", "activations.png", []),
        ("losses", "loss_outliers.png", []),
        ("optimizers", "optimizer_paths.png", []),
        ("schedules", "schedules.png", ["--width", "200"]),
    ],
)
def test_plots_are_written_as_png(name: str, figure: str, options: list[str], tmp_path: Path, capsys) -> None:
    assert lesson.main([name, "--no-tf", "--plots", str(tmp_path), *options]) == 0
    assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {tmp_path / figure}" in capsys.readouterr().out


NUMBER = re.compile(r"[-−]?\d+(?:\.(\d+))?(?:e[-+]?\d+)?")


def _last_place(match: re.Match[str]) -> float:
    """One unit in the last printed digit of a number: ``0.0004735`` → 1e-7, ``1.2e-05`` → 1e-6."""
    decimals = len(match.group(1) or "")
    exponent = re.search(r"e([-+]?\d+)$", match.group(0))
    return 10.0 ** ((int(exponent.group(1)) if exponent else 0) - decimals)


def test_docs_page_is_up_to_date(tmp_path: Path) -> None:
    """The page equals a fresh render: the text exactly, each number to one unit in its last printed digit.

    The page prints values computed on the machine that wrote it; another CPU's vector kernels (tanh, erf, sums
    in another order) can round the last printed digit the other way, which is not a stale page.
    """
    fresh = lesson.write_docs(tmp_path / "side-by-side.md").read_text(encoding="utf-8")
    page = DOCS.read_text(encoding="utf-8")
    stale = "docs/side-by-side.md is stale: run  ptref lesson --write-docs docs/side-by-side.md"
    assert NUMBER.split(page)[::2] == NUMBER.split(fresh)[::2], stale
    numbers = list(zip(NUMBER.finditer(page), NUMBER.finditer(fresh), strict=True))
    for ours, theirs in numbers:
        a, b = (float(m.group(0).replace("−", "-")) for m in (ours, theirs))
        assert abs(a - b) <= 1.01 * max(_last_place(ours), _last_place(theirs)), f"{stale} ({a} vs {b})"


def test_ptref_never_imports_tensorflow() -> None:
    """No module-level import in ptref/ names TensorFlow or Keras.

    The lesson loads compare/ by path, on demand; ptref.interop imports keras inside the functions that
    read a Keras model or file, only when called.
    """
    for path in (REPO / "ptref").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside_functions = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in inside_functions:
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in ("tensorflow", "keras") for n in names), path


def test_importing_every_ptref_module_leaves_tensorflow_unloaded() -> None:
    code = (
        "import importlib, pkgutil, sys, ptref\n"
        "for m in pkgutil.walk_packages(ptref.__path__, 'ptref.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

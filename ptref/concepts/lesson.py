"""``ptref lesson``: each course concept in TensorFlow and in PyTorch, side by side, both run live.

A lesson is a module of ``ptref/concepts/`` whose ``STEPS`` are small functions returning the values they
show (and whose ``HELPERS`` are shown, not run). Its TensorFlow twin, ``compare/concepts/<lesson>_tf.py``,
has functions of the same names. The code printed is read from those two files, so it is the code that ran.
TensorFlow runs only when it is installed and the twin folder is there (a source checkout); without them
the lesson still shows TensorFlow's code and says why it did not run it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ptref.concepts.render import render_markdown, render_text

LESSONS = (
    "tensors",
    "sparse",
    "graphs",
    "autograd",
    "training_loop",
    "gradients",
    "activations",
    "losses",
    "optimizers",
    "adaptive_optimizers",
    "schedules",
    "batch_norm",
    "data_pipelines",
    "fusion",
    "text",
    "errata",
)
REPO = Path(__file__).resolve().parents[2]
TWINS_DIR = REPO / "compare" / "concepts"


class TwinUnavailable(Exception):
    """The TensorFlow side cannot run here; the message says why and what to do."""


@dataclass
class Side:
    """One framework's half of a step: its code, and what it returned (``None`` when it did not run)."""

    framework: str
    path: str
    code: str | None
    values: dict | None = None
    note: str = ""


@dataclass
class Step:
    """A step of a lesson: its name, its explanation (the PyTorch docstring) and the two sides.

    ``number`` is its place among the lesson's ``total`` steps; ``None`` for a helper (shown, not run).
    """

    name: str
    doc: str
    tf: Side
    torch: Side
    number: int | None
    total: int

    @property
    def is_helper(self) -> bool:
        return self.number is None


def concept(name: str) -> ModuleType:
    """The PyTorch module of lesson ``name`` (``training-loop`` and ``training_loop`` both work)."""
    name = name.replace("-", "_")
    if name not in LESSONS:
        raise SystemExit(f"unknown lesson {name!r}; the lessons are: {', '.join(LESSONS)}")
    return importlib.import_module(f"ptref.concepts.{name}")


def twin_path(name: str) -> Path:
    """Where the TensorFlow twin of lesson ``name`` lives."""
    return TWINS_DIR / f"{name}_tf.py"


def load_twin(name: str) -> ModuleType:
    """Import the TensorFlow twin of lesson ``name``; raises :class:`TwinUnavailable` saying why it cannot."""
    path = twin_path(name)
    if not path.is_file():
        raise TwinUnavailable(
            f"{path} not found: the TensorFlow twins ship with a source checkout of ptref (git clone), not the wheel"
        )
    from ptref.parity.tf import TensorFlowMissing, import_tensorflow

    try:
        import_tensorflow()  # oneDNN off there: TensorFlow's sums in Eigen's order print PyTorch's digits
    except TensorFlowMissing as error:
        raise TwinUnavailable(f"{error} to run its side") from error
    spec = importlib.util.spec_from_file_location(f"ptref_tf_twin_{name}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # e.g. a TensorFlow too old or too new for the twin
        raise TwinUnavailable(f"{path} failed to import: {type(error).__name__}: {error}") from error
    return module


def function_source(path: Path, name: str) -> str | None:
    """The source of top-level function ``name`` in ``path``, decorators included, docstring left out."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = text.splitlines()[first - 1 : node.end_lineno]
            if ast.get_docstring(node) is not None:
                skip = range(node.body[0].lineno - first, node.body[0].end_lineno - first + 1)
                lines = [line for i, line in enumerate(lines) if i not in skip]
            return "\n".join(lines)
    return None


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.as_posix()


def _quietly(function: Callable[[], dict]) -> dict:
    """Run one step; library warnings (fx internals, beta notices) would bury the lesson's output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function()


def run_lesson(name: str, run_tf: bool = True, only: str | None = None) -> tuple[list[Step], str]:
    """Run every step of lesson ``name`` (or step ``only``) in PyTorch and, if ``run_tf`` and possible, TensorFlow.

    Returns the steps (helpers first) and one line saying how TensorFlow ran.
    """
    module = concept(name)
    name = module.__name__.rsplit(".", 1)[-1]
    twin, status = None, "TensorFlow: not run (--no-tf); its code is shown"
    if run_tf:
        try:
            twin = load_twin(name)
            status = f"TensorFlow: running live (tensorflow {importlib.import_module('tensorflow').__version__})"
        except TwinUnavailable as why:
            status = f"TensorFlow: not run, its code is shown. {why}"
    torch_path, tf_path = Path(inspect.getsourcefile(module)), twin_path(name)
    shown = [(f, False) for f in getattr(module, "HELPERS", ())] + [(f, True) for f in module.STEPS]
    if only is not None:
        shown = [(f, run) for f, run in shown if f.__name__ == only]
        if not shown:
            raise SystemExit(f"no step {only!r} in {name}; steps: {', '.join(f.__name__ for f in module.STEPS)}")
    steps = []
    for function, run in shown:
        step = function.__name__
        tf_code = function_source(tf_path, step)
        tf_side = Side("TensorFlow", _relative(tf_path), tf_code)
        torch_side = Side("PyTorch", _relative(torch_path), function_source(torch_path, step))
        if run:
            torch_side.values = _quietly(function)
            if tf_code is not None and twin is None:
                tf_side.note = "TensorFlow not run: see the top"
            elif tf_code is not None:
                try:
                    tf_side.values = _quietly(getattr(twin, step))
                except Exception as error:  # noqa: BLE001 - a learner's TensorFlow may differ from ours: say so, go on
                    tf_side.note = f"TensorFlow raised {type(error).__name__}: {error}"
        number = module.STEPS.index(function) + 1 if run else None
        steps.append(Step(step, inspect.getdoc(function) or "", tf_side, torch_side, number, len(module.STEPS)))
    return steps, status


def lesson_intro(name: str) -> str:
    """The lesson module's docstring."""
    return inspect.getdoc(concept(name)) or name


def list_lessons() -> str:
    """The table ``ptref lesson`` prints without a name."""
    tf_found = importlib.util.find_spec("tensorflow") is not None
    lines = ["Lessons, in the course's order (run one with: ptref lesson NAME):", ""]
    width = max(map(len, LESSONS))
    lines += [f"  {name:<{width}} {lesson_intro(name).splitlines()[0]}" for name in LESSONS]
    lines += [
        "",
        f"TensorFlow side: {'installed, runs live' if tf_found else 'not installed (pip install -e .[compare])'}; "
        f"twins in {_relative(TWINS_DIR)}{'' if TWINS_DIR.is_dir() else ' (missing: not a source checkout)'}",
        "Options: --step NAME (one step), --no-tf (show TF code only), --plots DIR (PNG figures), --width N",
    ]
    return "\n".join(lines)


def write_docs(path: Path) -> Path:
    """Write every lesson's pairs as Markdown (PyTorch values only, so the page never depends on TensorFlow)."""
    lessons = {name: run_lesson(name, run_tf=False)[0] for name in LESSONS}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown({name: (lesson_intro(name), steps) for name, steps in lessons.items()}))
    return path


def main(argv: Sequence[str] = ()) -> int:
    """``ptref lesson [NAME] [--step STEP] [--no-tf] [--plots DIR] [--width N] [--write-docs PATH]``."""
    parser = argparse.ArgumentParser(prog="ptref lesson", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help=f"one of: {', '.join(LESSONS)} (none: list them)")
    parser.add_argument("--step", help="show only this step")
    parser.add_argument("--no-tf", action="store_true", help="show TensorFlow's code without running it")
    parser.add_argument("--plots", type=Path, metavar="DIR", help="write this lesson's figures (PNG) into DIR")
    parser.add_argument("--width", type=int, help="columns to lay out for (default: the terminal's)")
    parser.add_argument("--write-docs", type=Path, metavar="PATH", help="write every lesson as Markdown to PATH")
    args = parser.parse_args(list(argv))

    if args.write_docs:
        print(f"wrote {write_docs(args.write_docs)}")
        return 0
    if args.name is None:
        print(list_lessons())
        return 0
    if args.plots and args.step:
        parser.error("--plots draws from the whole lesson: leave out --step")
    module = concept(args.name)
    steps, status = run_lesson(args.name, run_tf=not args.no_tf, only=args.step)
    width = args.width or shutil.get_terminal_size().columns
    print(render_text(lesson_intro(args.name), status, steps, width))
    if args.plots and hasattr(module, "plots"):
        results = {s.name: s.torch.values for s in steps if not s.is_helper}
        for path in module.plots(results, args.plots):
            print(f"wrote {path}")
    elif args.plots:
        print(f"(lesson {args.name} draws no figures)")
    return 0

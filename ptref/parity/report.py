"""What a parity run found: one :class:`Check` per comparison, gathered in a :class:`ParityReport` with a verdict,
a Markdown table, JSON and the figures (loss curves, loss gap, per-layer errors)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ptref.parity.tolerance import Tolerance


@dataclass
class Check:
    """One comparison: ``metric`` (max abs difference for an "abs" tolerance, max :meth:`Tolerance.gap` for "rel")
    against ``tolerance``. ``where`` names the layer or parameter with the largest gap (for the per-layer forward
    check: the first layer beyond its bound, the place where the two models part).

    ``expect_failure`` marks a "teeth" check: a deliberately wrong port, whose verdict is "caught" when the metric
    exceeds the tolerance (the parity check it stands for fails).
    """

    level: str
    model: str
    what: str
    max_abs: float
    max_rel: float
    tolerance: Tolerance
    expect_failure: bool = False
    where: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def metric(self) -> float:
        return self.max_abs if self.tolerance.kind == "abs" else self.max_rel

    @property
    def within(self) -> bool:
        return bool(self.metric <= self.tolerance.value)

    @property
    def ok(self) -> bool:
        """Within tolerance; for a teeth check, outside it (the wrong port is caught)."""
        return self.within != self.expect_failure

    @property
    def verdict(self) -> str:
        if math.isinf(self.tolerance.value):
            return "measured"
        if self.expect_failure:
            return "caught" if self.ok else "NOT CAUGHT"
        return "pass" if self.ok else "FAIL"

    def message(self) -> str:
        """One line: level, what, where, max abs / rel difference, the tolerance and its reason."""
        place = f" at {self.where}" if self.where else ""
        return (
            f"{self.verdict}: {self.level} {self.model}: {self.what}{place}: max abs diff {self.max_abs:.3g}, max rel "
            f"diff {self.max_rel:.3g}; tolerance {self.tolerance.name} = {self.tolerance.value:g} "
            f"{self.tolerance.kind}" + (f" (+ {self.tolerance.atol:g}·S)" if self.tolerance.atol else "")
            + f": {self.tolerance.reason}"
        )

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record.update(metric=self.metric, verdict=self.verdict, ok=self.ok)
        return record


def difference(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """``(max |e − a|, max |e − a| / max |e|)``; the relative one is the absolute one when ``e`` is all 0."""
    a, b = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    abs_diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    return abs_diff, (abs_diff / scale if scale else abs_diff)


@dataclass
class ParityReport:
    """The checks of one parity run, and notes saying how it ran (Dropout, oneDNN, the map's origin)."""

    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def verdict(self) -> str:
        """``"pass"`` when every check is as expected, else ``"FAIL"`` naming the first failing check."""
        bad = self.failures
        return "pass" if not bad else f"FAIL ({len(bad)} of {len(self.checks)}; first: {bad[0].message()})"

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def to_markdown(self, title: str = "Keras vs PyTorch: parity report") -> str:
        lines = [
            "| level | model | compared | where | max abs diff | max rel diff | tolerance | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in self.checks:
            tol = c.tolerance
            bound = "—" if math.isinf(tol.value) else f"{tol.value:g} {tol.kind} (`{tol.name}`)"
            lines.append(f"| {c.level} | {c.model} | {c.what} | {c.where} | {c.max_abs:.3g} | {c.max_rel:.3g} | "
                         f"{bound} | {c.verdict} |")
        good = len(self.checks) - len(self.failures)
        tolerances = {c.tolerance.name: c.tolerance for c in self.checks}
        reasons = "\n".join(
            f"- `{t.name}` = {t.value:g} ({t.kind}" + (f", absolute part {t.atol:g}·S" if t.atol else "")
            + f"): {t.reason}"
            for t in sorted(tolerances.values(), key=lambda t: t.name)
        )
        notes = "".join(f"- {note}\n" for note in self.notes)
        return (
            f"# {title}\n\nVerdict: **{'pass' if self.ok else 'FAIL'}**: {good}/{len(self.checks)} checks as expected"
            f" in {self.seconds:.0f} s. *pass* = within tolerance; *caught* = a deliberately wrong port exceeds it "
            "(the check has teeth); *measured* = reported, no bound.\n\n" + (notes + "\n" if notes else "")
            + "\n".join(lines) + "\n\n## Tolerances and their reasons\n\n" + reasons + "\n"
        )

    def to_json(self) -> str:
        payload = {"ok": self.ok, "verdict": self.verdict, "seconds": self.seconds, "notes": self.notes,
                   "checks": [c.as_dict() for c in self.checks]}
        return json.dumps(payload, indent=1, default=str)

    def write(self, out: str | Path, title: str = "Keras vs PyTorch: parity report") -> list[str]:
        """``report.md``, ``report.json`` and the figures into ``out``; returns the file names written."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(self.to_markdown(title))
        (out / "report.json").write_text(self.to_json())
        return ["report.md", "report.json", *self.figures(out)]

    def summary(self, written: list[str], out: str | Path) -> str:
        """What a command prints after :meth:`write`: the count of checks as expected, the files, each failure."""
        good = len(self.checks) - len(self.failures)
        lines = [f"{good}/{len(self.checks)} checks as expected in {self.seconds:.0f} s; wrote {', '.join(written)} "
                 f"to {out}"]
        return "\n".join(lines + [f"  {check.message()}" for check in self.failures])

    def figures(self, out: Path) -> list[str]:
        """``loss_curves.png`` (Keras vs torch loss per step), ``loss_gap.png`` (largest gap so far, log scale) and
        ``per_layer_errors.png`` (per-layer forward and per-parameter gradient error against its bound)."""
        import matplotlib

        matplotlib.use("Agg")  # files only: works without a display
        from ptref.figures import new_figure

        written = []
        runs = [c for c in self.checks if c.level == "trajectory" and "keras_loss" in c.details and "loss" in c.what]
        if runs:
            figure = new_figure(4 * len(runs), 3.2)
            axes = figure.subplots(1, len(runs), squeeze=False)
            for axis, c in zip(axes[0], runs):
                axis.plot(c.details["keras_loss"], label="Keras", linewidth=3, alpha=0.5)
                axis.plot(c.details["torch_loss"], label="PyTorch", linestyle="--")
                axis.set(title=c.model, xlabel="step", ylabel="loss")
                axis.legend()
            written.append(_save(figure, out / "loss_curves.png"))
            figure = new_figure(11, 4)
            axes = figure.subplots(1, 2, sharey=True)
            floor = 1e-10  # exact agreement (0) drawn at the floor of the log scale
            for c in runs:
                # the largest gap so far: per-step rounding flips between 0 and an ulp, the envelope shows the growth
                for axis, key in zip(axes, ("loss_rel_gap", "weight_abs_gap")):
                    axis.plot(np.maximum.accumulate(np.maximum(c.details[key], floor)), label=c.model)
            axes[0].set(yscale="log", xlabel="step", ylabel="largest gap so far", title="loss per step, max rel gap")
            axes[1].set(xlabel="step", title="weights after each step, max abs gap")
            axes[1].legend(fontsize=7)
            written.append(_save(figure, out / "loss_gap.png"))
        bars = [(f"{c.model}: {name}", gap, c.tolerance.value) for c in self.checks
                if c.level in ("forward", "gradient") and not c.expect_failure
                for name, gap in c.details.get("per_item", {}).items()]
        if bars:
            names, values, bounds = zip(*bars)
            figure = new_figure(7, 0.25 * len(names) + 1.2)
            axis = figure.subplots()
            axis.barh(names, [max(v, 1e-12) for v in values])
            axis.scatter(bounds, names, marker="|", color="red", s=200, label="tolerance")
            axis.set(xscale="log", xlabel="max gap (the tolerance's metric)", title="Error per layer and parameter")
            axis.invert_yaxis()
            axis.legend()
            written.append(_save(figure, out / "per_layer_errors.png"))
        return written


def _save(figure: Any, path: Path) -> str:
    from ptref.figures import save_figure

    return save_figure(figure, path, dpi=90).name

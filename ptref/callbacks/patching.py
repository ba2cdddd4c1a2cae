"""What the speed levers that replace a Lightning function share: the patch is in place while a Trainer runs.

A :class:`CountedPatch` is applied by its first user and undone by its last (a Trainer run inside another's hook
installs once). A :class:`PatchWhileRunning` callback installs its patch at ``setup`` and uninstalls it at
``teardown``, or at ``on_exception``: a run that fails between the two reaches Lightning's ``on_exception`` only,
and without it Lightning's function would stay replaced for every later Trainer in the process.
"""

from __future__ import annotations

from collections.abc import Callable

import lightning.pytorch as pl


class CountedPatch:
    """``apply`` on the first :meth:`install`, ``restore`` on the :meth:`uninstall` that matches it."""

    def __init__(self, apply: Callable[[], None], restore: Callable[[], None]) -> None:
        self.apply, self.restore = apply, restore
        self.users = 0

    def install(self) -> None:
        if self.users == 0:
            self.apply()
        self.users += 1

    def uninstall(self) -> None:
        if self.users == 0:
            return
        self.users -= 1
        if self.users == 0:
            self.restore()


class PatchWhileRunning(pl.Callback):
    """Base of a lever: its :attr:`patch` is installed from ``setup`` to ``teardown`` (or to a failure).

    Args:
        enabled: ``false`` leaves Lightning's function in place.
    """

    patch: CountedPatch  # set by each subclass

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._installed = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.enabled and not self._installed:
            self.patch.install()
            self._installed = True

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._installed:
            self.patch.uninstall()
            self._installed = False

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self.teardown(trainer, pl_module, "exception")

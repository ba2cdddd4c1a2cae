"""ptref imports without TensorFlow: every module, with ``tensorflow``/``keras`` made unimportable; and no module of
ptref edits the import path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ptref"

BLOCKED_IMPORT = """
import importlib, importlib.abc, importlib.util, pkgutil, sys

class Blocked(importlib.abc.Loader):
    # found (probes such as torch._dynamo's find_spec see a package without files), never importable

    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        raise ImportError(f'{spec.name} imported at module level')

    def exec_module(self, module):
        pass

sys.meta_path.insert(0, Blocked())
import ptref
failed = []
for module in pkgutil.walk_packages(ptref.__path__, 'ptref.'):
    try:
        importlib.import_module(module.name)
    except Exception as error:
        failed.append(f'{module.name}: {type(error).__name__}: {error}')
print('\\n'.join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_of_ptref_imports_with_tensorflow_unimportable() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT], capture_output=True, text=True,
                            cwd=PACKAGE.parent, env={"PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_the_blocker_would_catch_a_module_level_tensorflow_import(tmp_path: Path) -> None:
    (tmp_path / "ptref_probe.py").write_text("import tensorflow\n")
    code = BLOCKED_IMPORT.replace("import ptref\n", "import ptref, ptref_probe\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent,
                            env={"PYTHONPATH": f"{PACKAGE.parent}:{tmp_path}", "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0 and "tensorflow imported at module level" in result.stderr


def test_no_module_of_ptref_edits_the_import_path() -> None:
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{number}" for path in sorted(PACKAGE.rglob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1) if "sys.path" in line]
    assert not offenders, f"sys.path in ptref/: {offenders}"

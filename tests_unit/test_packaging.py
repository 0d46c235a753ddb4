"""The wheel carries the whole suite: every stackgate_suite folder with tests, every stackgate layer, the schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_suite_folder_with_tests_and_every_layer(tmp_path):
    src = tmp_path / "src"  # a clean copy: setuptools' build/ folder of an earlier build would hide a missing package
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "stackgate", "stackgate_suite"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(
            ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir() else {}))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-800:]
    (wheel,) = tmp_path.glob("stackgate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    suites = sorted({p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "stackgate_suite").rglob("test_*.py")})
    layers = sorted(p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "stackgate").glob("*/__init__.py"))
    assert "stackgate_suite/scale" in suites and "stackgate/pytest_plugin" in layers
    missing = [folder for folder in suites + layers if f"{folder}/__init__.py" not in names]
    assert not missing, f"not in the wheel: {missing}"
    for folder in suites:
        tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).glob("*.py")}
        assert tests <= names, f"{folder}: {sorted(tests - names)} not in the wheel"
    assert "stackgate/manifest/data/manifest.schema.json" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "stackgate = stackgate.pytest_plugin" in zipfile.ZipFile(wheel).read(entry).decode()

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def _actionlint() -> str:
    exe = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(exe).exists():
        pytest.fail("actionlint is not installed: `make install` brings it (extra `dev`)")
    return exe


def test_workflow_passes_actionlint():
    res = subprocess.run(check=False, args=[_actionlint(), str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n")
    res = subprocess.run(check=False, args=[_actionlint(), str(bad)], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0


def test_workflow_smokes_every_experiment_and_runs_lint_and_tests():
    wf = yaml.safe_load(WORKFLOW.read_text())
    steps = " ".join(str(s.get("run", "")) for s in wf["jobs"]["test"]["steps"])
    assert "ruff check" in steps and "pytest" in steps and "fast_dev_run=true" in steps
    assert "conf/experiment/*.yaml" in steps

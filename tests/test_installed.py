"""The book as a Colab reader gets it: the package installed from a wheel (not editable), every
chapter executed outside the repository. Recorded runs must travel with the package."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from bookfiles import ROOT, toc_notebooks

CHECK = ("import pathlib, trtfaq\n"
         "where = pathlib.Path(trtfaq.__file__).resolve()\n"
         "assert 'site-packages' in where.parts, where\n"
         "assert not (where.parent.parent / 'notebooks').exists(), where\n"
         "print('trtfaq from an installed wheel:', len(list((where.parent / 'recorded').glob('*.json'))) > 0)")


def test_every_chapter_runs_from_a_non_editable_install(tmp_path):
    clone = tmp_path / "source"  # the working tree as it is about to be committed, without build outputs
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".git", ".venv", "_build", "test-artifacts",
                                                              "__pycache__", "*.egg-info", "build"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(clone)], check=True, capture_output=True)
    venv = tmp_path / "reader"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    # the reader's dependencies: this environment's packages, without its editable link to the repository
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", *wheels.glob("*.whl")],
                   check=True, capture_output=True)
    work = tmp_path / "reader-home"
    work.mkdir()
    failures = []
    for entry in toc_notebooks():
        nb = json.loads((ROOT / f"{entry}.ipynb").read_text())
        nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                            "source": CHECK})
        path = work / Path(entry).name
        path.with_suffix(".ipynb").write_text(json.dumps(nb))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        res = subprocess.run([str(py), "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                              str(path.with_suffix(".ipynb"))], capture_output=True, text=True, cwd=work, env=env)
        if res.returncode != 0:
            failures.append(f"{entry}: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
            continue
        last = json.loads(path.with_suffix(".ipynb").read_text())["cells"][-1]["outputs"]
        if "".join("".join(o.get("text", "")) for o in last) != "trtfaq from an installed wheel: True\n":
            failures.append(f"{entry}: {last}")
    assert not failures, failures

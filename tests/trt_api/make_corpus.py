"""Copy NVIDIA's own TensorRT Python code into ``tests/trt_api/corpus`` (the checker's test corpus).

    python tests/trt_api/make_corpus.py --repo PATH_TO_A_CLONE_OF_NVIDIA_TensorRT

From two commits of https://github.com/NVIDIA/TensorRT (Apache-2.0): the 8.6.1 release, code written for
TensorRT 8.6 (``v86/``, for recall: which of its uses of removed names does the checker find?), and the
11.1 release on ``main``, current code (``current/``, for precision: what does the checker report on code
that runs?). Only files that use the ``tensorrt`` module are copied: the Python samples, the quick-start
helpers, the demos' TensorRT code and Polygraphy's API examples. Files keep their license header and
get a ``.txt`` suffix so that neither ruff nor pytest nor nbval treats them as the book's code;
notebooks are stored without their outputs. ``README.md`` lists every file with its source.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPOSITORY = "https://github.com/NVIDIA/TensorRT"
#: folder -> (git ref, commit it must resolve to, what it is)
REFS = {
    "v86": ("v8.6.1", "a25ca8bba2a164179046afc2f5d7f478e280f8c0", "tag v8.6.1 (TensorRT 8.6.1 OSS release)"),
    "current": ("main", "a892d22267d9cd2dedc1a0893e6892ac901f6d3d", "main after the TensorRT 11.1 OSS release"),
}
PATHS = re.compile(r"^(samples/python/|quickstart/IntroNotebooks/\w+\.py$|demo/BERT/|demo/DeBERTa/"
                   r"|demo/Diffusion/utilities\.py$|demo/Diffusion/demo_diffusion/engine\.py$"
                   r"|demo/HuggingFace/NNDF/tensorrt_utils\.py$|demo/Tacotron2/tensorrt/"
                   r"|tools/tensorflow-quantization/examples/|tools/Polygraphy/examples/"
                   r"|tools/polygraphy-extension-trtexec/)")
NOTEBOOKS = {
    "v86": ["quickstart/SemanticSegmentation/tutorial-runtime.ipynb", "demo/BERT/inference.ipynb"],
    "current": ["quickstart/SemanticSegmentation/tutorial-runtime.ipynb",
                "samples/python/refactored/1_run_onnx_with_tensorrt/main.ipynb",
                "samples/python/refactored/2_construct_network_with_layer_apis/main.ipynb"],
}
USES_TRT = re.compile(r"^\s*(import tensorrt\b|from tensorrt\b)|lazy_import\(\"tensorrt", re.M)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def strip_outputs(text: str) -> str:
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(nb, indent=1) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a clone (or bare git dir) of NVIDIA/TensorRT")
    args = parser.parse_args()
    rows = []
    for folder, (ref, commit, what) in REFS.items():
        resolved = git(args.repo, "rev-parse", f"{ref}^{{commit}}").strip()
        if resolved != commit:
            raise SystemExit(f"{ref} is {resolved} in {args.repo}, expected {commit}")
        names = [n for n in git(args.repo, "ls-tree", "-r", "--name-only", commit).splitlines()
                 if (n.endswith(".py") and PATHS.match(n)) or n in NOTEBOOKS[folder]]
        for name in names:
            text = git(args.repo, "show", f"{commit}:{name}")
            if name.endswith(".ipynb"):
                text = strip_outputs(text)
            elif not USES_TRT.search(text):
                continue
            dest = CORPUS / folder / (name + ".txt")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
            rows.append(f"| `{folder}/{name}.txt` | `{name}` | `{commit[:12]}` ({what}) |")
    license_text = git(args.repo, "show", f"{REFS['current'][1]}:LICENSE")
    (CORPUS / "LICENSE.txt").write_text(license_text)
    readme = [
        "# Corpus: NVIDIA's TensorRT Python code",
        "",
        f"Copied from {REPOSITORY} by `tests/trt_api/make_corpus.py`, unchanged except that notebooks are",
        "stored without their outputs and every file has a `.txt` suffix (so that no linter or test runner",
        "treats it as this project's code). Licensed under the Apache License 2.0 (`LICENSE.txt`, the",
        "repository's license file); each Python file keeps NVIDIA's license header.",
        "",
        "- `v86/`: tag `v8.6.1`, commit `" + REFS["v86"][1] + "` (code written for TensorRT 8.6).",
        "- `current/`: branch `main`, commit `" + REFS["current"][1] + "` (TensorRT 11.1 release).",
        "",
        "`tests/test_check_api_corpus.py` runs `trtfaq check-api` over these files and measures how many",
        "of the 8.6 code's uses of removed names it finds (recall) and how many of its reports on the",
        "current code are right (precision); `labels.json` records the hand-checked answers.",
        "",
        "| File here | Path in the repository | Commit |",
        "|---|---|---|",
        *rows,
    ]
    (CORPUS / "README.md").write_text("\n".join(readme) + "\n")
    print(f"copied {len(rows)} files into {CORPUS}")


if __name__ == "__main__":
    main()

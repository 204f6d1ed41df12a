"""The package's command line: ``python -m trtfaq <command>`` (setup page).

- ``env``: what this machine has (GPU, driver, CUDA, TensorRT and its library file, ONNX Runtime).
- ``colab-cells``: rewrite every chapter's Colab install cell from ``_config.yml``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trtfaq", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", help="print what this machine has")
    cells = sub.add_parser("colab-cells", help="rewrite the Colab install cell of every chapter")
    cells.add_argument("--root", type=Path, default=Path("."), help="the book's root folder")
    args = parser.parse_args(argv)

    if args.command == "env":
        from .env import detect

        print(detect())
        return 0
    from .colab import repository_url, update_notebook

    url = repository_url(args.root / "_config.yml")
    for nb in sorted((args.root / "notebooks").glob("*.ipynb")):
        if update_notebook(nb, url):
            print(f"updated {nb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The package's command line: ``python -m trtfaq <command>`` (setup page).

- ``env``: what this machine has (GPU, driver, CUDA, TensorRT and its library file, ONNX Runtime).
- ``doctor``: is this machine ready for the book? One OK/WARN/FAIL line per check; exit 1 on FAIL.
- ``run-all``: execute every chapter in ``_toc.yml`` and write a preflight report.
- ``record``: run a GPU experiment and save its raw samples with provenance in ``trtfaq/recorded/``.
- ``colab-cells``: rewrite every chapter's Colab install cell from ``_config.yml``.
- ``check-api``: check your own TensorRT Python code (files, notebooks, folders) against the real API
  of TensorRT 10.x and 11.x, shipped as data; says what was removed when and what to use instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from ..errors import BookError

    try:
        return _main(argv)
    except BookError as exc:
        print(f"trtfaq: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trtfaq: interrupted (Ctrl-C)", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="trtfaq", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", help="print what this machine has")
    doc = sub.add_parser("doctor", help="check this machine is ready for the book")
    doc.add_argument("--require-gpu", action="store_true", help="fail (not warn) without GPU and TensorRT")
    doc.add_argument("--prefetch", action="store_true",
                     help="first download what the chapters fetch (runtime libraries, about 45 MB) into the cache")
    run = sub.add_parser("run-all", help="execute every chapter and write a preflight report")
    run.add_argument("--root", type=Path, default=Path("."), help="the book's root folder")
    run.add_argument("--report", type=Path, default=Path("_build/preflight.md"), help="where to write the report")
    run.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    rec = sub.add_parser("record", help="run a GPU experiment and save a result file")
    rec.add_argument("experiment", help="experiment name, or 'all'")
    rec.add_argument("--out", type=Path, default=None, help="folder for the result files (default: trtfaq/recorded/)")
    cells = sub.add_parser("colab-cells", help="rewrite the Colab install cell of every chapter")
    cells.add_argument("--root", type=Path, default=Path("."), help="the book's root folder")
    from . import check_api

    check = sub.add_parser("check-api", help="check TensorRT Python code against the 10.x/11.x API",
                           description=check_api.__doc__.split("\n\n")[0])
    check_api.add_arguments(check)
    args = parser.parse_args(argv)

    if args.command == "env":
        from ..env import detect

        print(detect())
        return 0
    if args.command == "doctor":
        from .doctor import main as doctor

        return doctor(args.require_gpu, prefetch=args.prefetch)
    if args.command == "check-api":
        return check_api.run(args)
    if args.command == "run-all":
        from .preflight import main as run_all

        return run_all(args.root, args.report, args.timeout)
    if args.command == "record":
        from .. import experiments, results
        from ..errors import BookError

        if args.out is not None and args.out.exists() and not args.out.is_dir():
            raise BookError(f"--out {args.out} is a file: give the folder for the result files")
        names = list(experiments.EXPERIMENTS) if args.experiment == "all" else [args.experiment]
        for name in names:
            print(f"recorded {experiments.run(name, args.out or results.default_folder())}")
        return 0
    from .colab import main as colab_cells

    return colab_cells(args.root)


if __name__ == "__main__":
    sys.exit(main())

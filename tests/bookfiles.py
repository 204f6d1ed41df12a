"""What the book consists of, read from _toc.yml (shared by the book and site tests)."""
import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for ch in part.get("chapters", []):
            files.append(ch["file"])
            files += [s["file"] for s in ch.get("sections", [])]
    return files


def toc_notebooks() -> list[str]:
    return [f for f in toc_files() if f.startswith("notebooks/")]


def source_of(entry: str) -> pathlib.Path | None:
    for ext in (".ipynb", ".md"):
        p = ROOT / f"{entry}{ext}"
        if p.exists():
            return p
    return None

"""The generated table of ``book/changes.md`` (between its BEGIN/END markers)."""
from __future__ import annotations

import re
from pathlib import Path

BEGIN = "<!-- BEGIN generated: python -m trtfaq check-api --changes-table -->"
END = "<!-- END generated -->"
PAGE = Path(__file__).resolve().parents[2] / "book" / "changes.md"


def generated_part(text: str) -> str:
    m = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    if m is None:
        raise ValueError(f"{PAGE.name} has no generated part ({BEGIN} ... {END})")
    return m.group(1)


def update(page: Path = PAGE) -> bool:
    """Rewrite the generated part from the shipped data; True if the page changed."""
    from trtfaq.tools.check_api import changes_table

    text = page.read_text()
    new = text.replace(BEGIN + "\n" + generated_part(text) + END, BEGIN + "\n" + changes_table() + END)
    if new != text:
        page.write_text(new)
    return new != text


if __name__ == "__main__":
    print("updated" if update() else "up to date", PAGE)

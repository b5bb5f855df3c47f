#!/usr/bin/env python3
"""Write the metric table of docs/metrics.md from the metric catalog (functions/ecs_watchdog/metrics/catalog.py).

    scripts/run.sh python scripts/render_metrics_doc.py           # rewrite the table in place
    scripts/run.sh python scripts/render_metrics_doc.py --check   # exit 1 if the page is not current

The table sits between two HTML comments in the page; the prose around it is written by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions")]

from ecs_watchdog.metrics.catalog import CATALOG  # noqa: E402

PAGE = ROOT / "docs" / "metrics.md"
BEGIN = "<!-- the metric table: generated from the catalog by scripts/render_metrics_doc.py; edit the catalog -->"
END = "<!-- end of the generated metric table -->"


def table() -> str:
    """The catalog as a Markdown table, in the catalog's order."""
    rows = ["| metric | dimensions (besides `service`) | unit | what it counts |", "|---|---|---|---|"]
    for spec in CATALOG.values():
        dimensions = ", ".join(f"`{d}`" for d in spec.dimensions) or "—"
        rows.append(f"| `{spec.name}` | {dimensions} | {spec.unit} | {spec.meaning} |")
    return "\n".join(rows)


def rendered(page: str) -> str:
    """`page` with the text between the markers replaced by the current table."""
    head, begin, rest = page.partition(BEGIN)
    _old, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{PAGE.name} has lost its markers ({BEGIN!r} ... {END!r})")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/metrics.md is not current")
    args = parser.parse_args()
    page = PAGE.read_text(encoding="utf-8")
    current = rendered(page)
    if args.check:
        if current != page:
            print(f"{PAGE.relative_to(ROOT)} is stale: run scripts/run.sh python scripts/render_metrics_doc.py")
            return 1
        return 0
    PAGE.write_text(current, encoding="utf-8")
    print(f"{PAGE.relative_to(ROOT)}: {len(CATALOG)} metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())

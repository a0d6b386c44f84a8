"""Letter rendering benchmark: how long `lib.markdown.render_letter` (Markdown to sanitised
HTML, as every petition page, update, response, preview and delivery pack uses it) takes on
ordinary letters at the 30,000-character limit and on letters written to make a parser backtrack.

    .venv/bin/python bench/render_bench.py [--runs 20]

Needs no database. Prints the median and the slowest run per letter in milliseconds of CPU time
(the machine may be shared: wall time would measure the neighbours), uncached.
A figure, not a test: it never fails on timing (tests/test_letter_rendering.py holds the bound).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 30000


def at_the_limit(text: str) -> str:
    return (text * (LIMIT // len(text) + 1))[:LIMIT]


def letters() -> dict[str, str]:
    demo = json.loads((ROOT / "petitions/demo/seed-petition.json").read_text())
    markdown = (
        "We ask **one** thing, and *soon*:\n\n- free\n- fair\n\n> A quote\n> that goes on\n\n"
        "1. first\n2. second\n\n[Read more](https://example.org/a?b=c) and `code`.\n\n"
    )
    return {
        "demo letter, English, repeated": at_the_limit(demo["letter_en"] + "\n\n"),
        "demo letter, Persian, repeated": at_the_limit(demo["letter_fa"] + "\n\n"),
        "light Markdown, repeated": at_the_limit(markdown),
        '"[" * 15000 + "a" + "](" * 7000': "[" * 15000 + "a" + "](" * 7000,
        '"[a" * 15000': "[a" * 15000,
        '"<a " * 10000': "<a " * 10000,
        '"[x][" * 7500': "[x][" * 7500,
        '"![" * 15000': "![" * 15000,
        '"*a" * 15000': "*a" * 15000,
        '"**a" * 10000': "**a" * 10000,
        '"*" * 15000 + "a" + "*" * 15000': "*" * 15000 + "a" + "*" * 14999,
        '"`a" * 15000': "`a" * 15000,
        '">" * 30000': ">" * LIMIT,
        '"> - " * 7500': "> - " * 7500,
        '"<ul><li>" * 3750': "<ul><li>" * 3750,
        '"<div>" * 6000': "<div>" * 6000,
        "800 link definitions, 1000 uses": "".join(
            f"[r{i}]: http://x.example/{i}\n" for i in range(800)
        )
        + "[r1] " * 1000,
        "one 15,000-character link, used 5000 times": "[a]: http://x/"
        + "b" * 14980
        + "\n\n"
        + "[a]" * 5000,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from lib.markdown import render_letter

    print(f"render_letter, {args.runs} runs each, uncached (CPU ms)")
    print(f"{'letter':48} {'chars':>6} {'median':>8} {'max':>8}")
    for name, text in letters().items():
        times = []
        for _run in range(args.runs):
            started = time.process_time()
            render_letter(text)
            times.append((time.process_time() - started) * 1000)
        median, slowest = statistics.median(times), max(times)
        print(f"{name:48} {len(text):6} {median:8.2f} {slowest:8.2f}", flush=True)


if __name__ == "__main__":
    main()

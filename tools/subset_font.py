"""Rebuild the self-hosted Persian web font in static/fonts/.

Usage:  python tools/subset_font.py SRC_DIR [--static]

SRC_DIR is the unpacked npm package vazirmatn@33.0.3 (the folder holding
fonts/ and OFL.txt). Needs `pip install fonttools brotli`; neither is a site
dependency, so run this from a throwaway venv.
"""

import argparse
import io
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

OUT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"

# Letters, marks and digits Persian text uses. The rest of U+0600-06FF (Urdu,
# Sindhi, Quranic marks...) would add about 9 KB for characters we never show.
PERSIAN = (
    "U+060C,U+061B,U+061F,U+0621-063A,U+0640-0655,U+0660-066C,U+0670,"
    "U+067E,U+0686,U+0698,U+06A9,U+06AF,U+06C0,U+06CC,U+06F0-06F9"
)
# Joiners, direction marks and guillemets: only Persian pages use these, so
# they may trigger the download (see unicode-range in the CSS).
PERSIAN_EXTRAS = "U+00AB,U+00BB,U+200C-200F"
# ASCII punctuation, digits and spaces that occur inside Persian sentences. The
# CSS unicode-range includes them: the face is scoped to [lang="fa"], so English
# text never asks for it, and Persian text takes its spaces from it.
LATIN = "U+0020-007E,U+00A0,U+2013-2014,U+2018-2019,U+201C-201D,U+2026"

# Without these Persian renders as unjoined letters with misplaced dots/marks.
# isol is listed for completeness; Vazirmatn's default glyphs are the isolated forms.
SHAPING = ["ccmp", "locl", "isol", "init", "medi", "fina", "rlig", "liga", "calt"]
POSITIONING = ["mark", "mkmk", "kern"]


def load(source) -> TTFont:
    # Keep upstream's head.modified so reruns give byte-identical files.
    return TTFont(source, recalcTimestamp=False)


def write_subset(font: TTFont, out: Path) -> None:
    options = subset.Options()
    options.layout_features = SHAPING + POSITIONING
    options.hinting = False  # hints cost bytes and matter little at web sizes on modern screens
    options.flavor = "woff2"
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(f"{PERSIAN},{PERSIAN_EXTRAS},{LATIN}"))
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(out)
    print(f"{out.relative_to(OUT_DIR.parent.parent)}  {out.stat().st_size} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="unpacked vazirmatn npm package")
    parser.add_argument(
        "--static",
        action="store_true",
        help="write separate 400/700 files instead of one variable font (larger in total)",
    )
    args = parser.parse_args()
    src = args.src
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    if args.static:
        for weight in ("Regular", "Bold"):
            font = load(src / "fonts" / "ttf" / f"Vazirmatn-{weight}.ttf")
            write_subset(font, OUT_DIR / f"vazirmatn-{weight.lower()}.subset.woff2")
    else:
        # The site uses 400 and 700 only; clamping the axis drops the 100-300
        # and 800-900 deltas, which is what makes one variable file beat two statics.
        font = load(src / "fonts" / "variable" / "Vazirmatn[wght].ttf")
        font = instancer.instantiateVariableFont(font, {"wght": (400, 700)})
        # The subsetter trips over the in-memory gvar the instancer leaves
        # (glyphs with no deltas left are missing); a save/load round trip fixes it.
        buf = io.BytesIO()
        font.save(buf)
        buf.seek(0)
        font = load(buf)
        write_subset(font, OUT_DIR / "vazirmatn-variable.subset.woff2")

    shutil.copyfile(src / "OFL.txt", OUT_DIR / "OFL.txt")
    print("unicode-range:", ", ".join(f"{LATIN},{PERSIAN},{PERSIAN_EXTRAS}".split(",")))


if __name__ == "__main__":
    main()

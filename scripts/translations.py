"""Keep the translation catalogues in step with the code (Babel).

    python scripts/translations.py           # extract _() / N_() / ngettext() from visualcnn/ and ui/, merge the
                                             # new strings into every .po, compile the .mo files
    python scripts/translations.py --check   # exit 1 when a .po lacks a string or a .mo is stale (for CI)

Catalogues: visualcnn/locale/<lang>/LC_MESSAGES/visualcnn.po (edit these: a translator's file) and the
compiled .mo beside it (what gettext reads at run time; shipped in the wheel).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("visualcnn", "ui")
LOCALE = ROOT / "visualcnn" / "locale"
DOMAIN = "visualcnn"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every marked string of the code, with where it is used."""
    template = Catalog(project="visualcnn", domain=DOMAIN, charset="utf-8")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS,
                comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            template.add(message, locations=[(f"{source}/{filename}", lineno)], auto_comments=comments,
                         context=context)
    return template


def po_files() -> list[Path]:
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def read(path: Path) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=path.parents[1].name, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def missing(catalog: Catalog, template: Catalog) -> list[str]:
    """Strings of the code with no (or only a fuzzy) translation in `catalog`."""
    out = []
    for msg in template:
        if not msg.id:
            continue
        have = catalog.get(msg.id, context=msg.context)
        strings = [] if have is None else (list(have.string) if isinstance(have.string, (list, tuple)) else [have.string])
        if have is None or have.fuzzy or not all(strings):
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


HEADER = """\
# {language} translations for visualcnn.
# This file is distributed under the same license as the visualcnn project.
# Edit the msgstr lines; `python scripts/translations.py` merges new strings and compiles the .mo.
#"""


def update() -> None:
    template = extract()
    for path in po_files():
        catalog = read(path)
        template.creation_date = catalog.creation_date          # no churn in the header when nothing changed
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        catalog.header_comment = HEADER.format(language=catalog.locale.english_name)
        catalog.project, catalog.version = "visualcnn", "0.1"
        catalog.copyright_holder = "the visualcnn authors"
        catalog.msgid_bugs_address = catalog.last_translator = ""
        catalog.language_team = "visualcnn translators"
        with open(path, "wb") as f:
            write_po(f, catalog, width=100, sort_output=False, include_previous=False)
        path.with_suffix(".mo").write_bytes(compiled(read(path)))
        gaps = missing(read(path), template)
        print(f"{path.relative_to(ROOT)}: {len(template) - len(gaps)} of {len(template)} strings translated")
        for text in gaps:
            print(f"  untranslated: {text!r}")


def check() -> int:
    template = extract()
    status = 0
    for path in po_files():
        catalog = read(path)
        gaps = missing(catalog, template)
        if gaps:
            status = 1
            print(f"{path.relative_to(ROOT)}: {len(gaps)} untranslated, e.g. {gaps[0]!r}")
        mo = path.with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(catalog):
            status = 1
            print(f"{mo.relative_to(ROOT)}: stale; run python scripts/translations.py")
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check; exit 1 when something is out of date")
    args = p.parse_args(argv)
    if args.check:
        return check()
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())

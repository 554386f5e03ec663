"""Check, or make, the glossary's promise: a term links to it the first time a chapter uses it.

Reads the terms of ``book/glossary.md`` and, for each chapter, finds the first use of each
term in the chapter's prose (markdown cells; headings, code, maths and other roles left
out). That use must be a ``{term}`` link.

    python tools/glossary_links.py          # list the first uses that are not links
    python tools/glossary_links.py --fix    # turn each of them into a link

``tests/test_notebooks.py`` runs the check on every chapter.
"""

from __future__ import annotations

import argparse
import pathlib
import re

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TERM_ROLE = re.compile(r"\{term\}`([^`]*)`")
# Spans that are not prose: code, maths, other roles and links' targets, whole headings.
NOT_PROSE = re.compile(
    r"\{(?!term\})[\w:-]+\}`[^`]*`"  # {numref}`...`, {cite:p}`...`
    r"|`[^`]*`"  # code
    r"|\$\$.*?\$\$|\$[^$\n]*\$"  # maths
    r"|\]\([^)]*\)"  # a link's target
    r"|^#[^\n]*"  # a heading
    r"|^```[^\n]*",  # a fence line (an admonition's name)
    re.S | re.M,
)


def glossary_terms(glossary: pathlib.Path = BOOK / "glossary.md") -> list[str]:
    """The terms the glossary defines, longest first (so "validation tasks" wins over a
    shorter term inside it)."""
    body = glossary.read_text(encoding="utf-8").split("```{glossary}", 1)[1]
    terms = re.findall(r"^([^\s`][^\n]*)\n  ", body, re.M)
    return sorted(terms, key=len, reverse=True)


def _linked_term(role_text: str) -> str:
    """The term a ``{term}`` role links to: ``text <term>`` or ``term``."""
    match = re.search(r"<([^>]*)>\s*$", role_text)
    return (match.group(1) if match else role_text).strip().lower()


def _prose_mask(text: str) -> str:
    """``text`` with everything but prose blanked out (lengths kept), term roles too."""

    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))

    return NOT_PROSE.sub(blank, TERM_ROLE.sub(blank, text))


def _pattern(term: str) -> re.Pattern:
    return re.compile(r"(?i)(?<![\w-])" + re.escape(term) + r"s?(?![\w-])")


def first_unlinked_uses(
    text: str, terms: list[str]
) -> list[tuple[str, int, int]]:
    """``(term, start, end)`` of each term whose first use in ``text`` is not a link."""
    prose = _prose_mask(text)
    first_link = {}
    for match in TERM_ROLE.finditer(text):
        first_link.setdefault(_linked_term(match.group(1)), match.start())
    taken = []  # spans already claimed by a longer term
    found = []
    for term in terms:
        for match in _pattern(term).finditer(prose):
            if any(a <= match.start() < b for a, b in taken):
                continue
            taken.append(match.span())
            if first_link.get(term.lower(), len(text)) > match.start():
                found.append((term, *match.span()))
            break
    return found


def chapter_text(notebook) -> str:
    """The chapter's prose: its markdown cells, joined."""
    return "\n\n".join(
        cell.source for cell in notebook.cells if cell.cell_type == "markdown"
    )


def link_first_uses(notebook, terms: list[str]) -> int:
    """Turn each term's first unlinked use into a link; returns how many were changed."""
    changed = 0
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        # Terms first used in an earlier cell are already handled there.
        for term, start, end in sorted(
            first_unlinked_uses(chapter_text(notebook), terms),
            key=lambda hit: -hit[1],
        ):
            offset = chapter_text(notebook).find(cell.source)
            if not offset <= start < offset + len(cell.source):
                continue
            a, b = start - offset, end - offset
            word = cell.source[a:b]
            role = (
                f"{{term}}`{word}`"
                if word == term
                else f"{{term}}`{word} <{term}>`"
            )
            cell.source = cell.source[:a] + role + cell.source[b:]
            changed += 1
    return changed


def chapters() -> list[pathlib.Path]:
    """The numbered chapters."""
    return sorted(p for p in BOOK.glob("*.ipynb") if p.stem[:2].isdigit())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", action="store_true", help="write the links")
    arguments = parser.parse_args(argv)
    terms = glossary_terms()
    missing = 0
    for path in chapters():
        notebook = nbformat.read(path, as_version=4)
        if arguments.fix:
            while link_first_uses(notebook, terms):
                pass
            nbformat.write(notebook, path)
        for term, *_ in first_unlinked_uses(chapter_text(notebook), terms):
            missing += 1
            print(f"{path.name}: first use of {term!r} is not a link")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())

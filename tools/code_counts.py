"""How much of each chapter's code is the lesson, and how long its hidden cells are.

A chapter's code lines (non-blank, imports and the Colab set-up left out) are either the
lesson, in cells the reader sees (model, training, looking inside, the exercises' solutions),
or bookkeeping, in cells whose code the page hides (tagged ``hide-input``,
``remove-input`` or ``remove-cell``: tables, verdict sentences). The book's targets: at
least 60% of a chapter's code lines are the lesson, and no hidden cell is longer than 25
lines.

    python tools/code_counts.py     # one row per chapter; exit 1 when one misses a target

``tests/test_notebooks.py`` checks the same targets.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
HIDDEN = {"hide-input", "remove-input", "remove-cell"}
LESSON_SHARE = 0.60
LONGEST_HIDDEN = 25


@dataclasses.dataclass(frozen=True)
class Counts:
    """The code lines of one chapter, by kind."""

    chapter: str
    lesson: int
    bookkeeping: int
    longest_hidden: int

    @property
    def lesson_share(self) -> float:
        total = self.lesson + self.bookkeeping
        return self.lesson / total if total else 1.0

    @property
    def misses(self) -> list[str]:
        """The targets this chapter misses, in words."""
        found = []
        if self.lesson_share < LESSON_SHARE:
            found.append(
                f"{self.lesson_share:.0%} of its code is the lesson "
                f"(at least {LESSON_SHARE:.0%})"
            )
        if self.longest_hidden > LONGEST_HIDDEN:
            found.append(
                f"a hidden cell of {self.longest_hidden} lines "
                f"(at most {LONGEST_HIDDEN})"
            )
        return found


def code_lines(source: str) -> int:
    """Non-blank lines of a cell, imports (and their parenthesised names) left out."""
    count, in_import = 0, False
    for line in source.splitlines():
        stripped = line.strip()
        if in_import:
            in_import = not stripped.endswith(")")
            continue
        if stripped.startswith(("import ", "from ")) and " import" in (
            " " + stripped
        ):
            in_import = stripped.endswith("(")
            continue
        count += bool(stripped)
    return count


def chapter_counts(path: pathlib.Path) -> Counts:
    """The counts of one chapter notebook."""
    lesson = bookkeeping = longest = 0
    for cell in nbformat.read(path, as_version=4).cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or "colab-setup" in tags:
            continue
        lines = code_lines(cell.source)
        if tags & HIDDEN:
            bookkeeping += lines
            longest = max(longest, lines)
        else:
            lesson += lines
    return Counts(path.name, lesson, bookkeeping, longest)


def chapters() -> list[pathlib.Path]:
    """The numbered chapters, in order."""
    return sorted(p for p in BOOK.glob("*.ipynb") if p.stem[:2].isdigit())


def main() -> int:
    print(
        f"{'chapter':<28}{'lesson':>8}{'bookkeeping':>13}{'share':>7}"
        f"{'longest hidden':>16}"
    )
    missed = 0
    for path in chapters():
        counts = chapter_counts(path)
        print(
            f"{counts.chapter:<28}{counts.lesson:>8}{counts.bookkeeping:>13}"
            f"{counts.lesson_share:>7.0%}{counts.longest_hidden:>16}"
            + (
                ""
                if not counts.misses
                else "  MISSES: " + "; ".join(counts.misses)
            )
        )
        missed += bool(counts.misses)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

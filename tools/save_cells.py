"""Make ``siamese_utils/network.py`` and ``learning.py`` from the chapters' saved cells.

The chapters write the network's groups in code the reader sees and edits (chapter 2 the
twin and the two-input network, 3 the stem, 4 the block, 5 the encoder, 6 the head), and
what it learns by (chapter 2 the pair loss, 6 the paper's schedule, 7 the ranking loss). A
cell whose first line is ``# @save`` (the network) or ``# @save learning`` is also the
package's source, as d2l's ``#@save`` cells are: this script copies those cells, in the
chapters' order, into the module that every run of the package imports. So the code a
reader studies is the code the long runs train.

    python tools/save_cells.py          # write the two modules
    python tools/save_cells.py --check  # exit 1, with a diff, when one is out of date

``tests/test_saved_cells.py`` runs the check, so a chapter edited without running this
fails the suite.
"""

from __future__ import annotations

import argparse
import difflib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
MARKER = "# @save"

NETWORK_HEADER = '''"""The network, written in the chapters: the twin, the stem, the block, the encoder, the head.

GENERATED from the cells marked ``# @save`` in book/02-06 by ``python tools/save_cells.py``:
edit the chapter, then run that script. ``tests/test_saved_cells.py`` fails when this file
and the chapters differ. Each group is a function of a Keras tensor with keyword-only sizes
and a ``name``, and names its layers after itself (``stem_conv``, ``block_conv2``,
``classifier_score``). The argument checks live in :mod:`siamese_utils.network_checks`.
"""

import keras

from siamese_utils.network_checks import (
    check_block_sizes,
    check_embedding_activation,
    check_network_arguments,
    chosen_groups,
    initialisation_scales,
    layer_l2,
)
'''

LEARNING_HEADER = '''"""How the network learns, written in the chapters: the pair loss, the schedule, the ranking.

GENERATED from the cells marked ``# @save learning`` in book/ by ``python
tools/save_cells.py``: edit the chapter, then run that script. The pair loss (chapter 2) is
what the paper's pair training minimises, the schedule (chapter 6) is the rate and momentum
:class:`siamese_utils.optimizers.LayerwiseSGD` gives each layer, and the ranking loss
(chapter 7) is what :class:`siamese_utils.train.AllPairsTrainer` minimises, on the score
matrix it builds with chapter 7's ``episode_pairs`` and ``score_matrix``. The losses are in
``keras.ops``, so they run on any Keras backend; NumPy only lays out index arrays.
"""

import keras
import numpy as np
'''

# Marker word -> (module written, its header).
TARGETS = {
    "": (ROOT / "siamese_utils" / "network.py", NETWORK_HEADER),
    "learning": (ROOT / "siamese_utils" / "learning.py", LEARNING_HEADER),
}


def saved_cells(notebook: pathlib.Path, target: str = "") -> list[str]:
    """A notebook's cells saved into ``target`` (a key of :data:`TARGETS`), marker removed."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    saved = []
    for cell in cells:
        source = "".join(cell["source"])
        first, _, rest = source.partition("\n")
        if cell["cell_type"] != "code" or not first.startswith(MARKER):
            continue
        word = first[len(MARKER) :].strip()
        if word not in TARGETS:
            raise ValueError(
                f"{notebook.name}: {first!r} names no module; use "
                + " or ".join(repr(f"{MARKER} {w}".strip()) for w in TARGETS)
            )
        if word == target:
            saved.append(rest.strip("\n"))
    return saved


def module_text(book: pathlib.Path = BOOK, target: str = "") -> str:
    """The text of ``target``'s module as the chapters' saved cells make it."""
    header = TARGETS[target][1]
    sections = []
    for notebook in sorted(book.glob("*.ipynb")):
        cells = saved_cells(notebook, target)
        if cells:
            sections.append(
                f"# From book/{notebook.name}\n" + "\n\n\n".join(cells)
            )
    # Two blank lines between top-level definitions, as ruff formats a module, and after
    # the imports one, or two when a definition follows them (isort's rule).
    body = "\n\n\n".join(sections)
    first_code = body.split("\n", 1)[1] if body else ""
    gap = "\n\n" if first_code.startswith(("def ", "class ", "@")) else "\n"
    return header + gap + body + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare; exit 1 with a diff when network.py is out of date",
    )
    arguments = parser.parse_args(argv)
    stale = 0
    for target, (path, _) in TARGETS.items():
        wanted = module_text(BOOK, target)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        name = path.relative_to(ROOT)
        if not arguments.check:
            path.write_text(wanted, encoding="utf-8")
            print(f"wrote {name}")
        elif current == wanted:
            print(f"{name} matches the chapters' saved cells")
        else:
            stale += 1
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    wanted.splitlines(keepends=True),
                    str(name),
                    "the chapters' saved cells",
                )
            )
            print(
                f"\n{name} differs from the chapters' cells marked "
                f"{f'{MARKER} {target}'.strip()!r}: run python tools/save_cells.py"
            )
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())

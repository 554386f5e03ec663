"""Rebuild ``siamese_utils/omniglot_drawers.npy`` from the original Omniglot archives.

tfds keeps each Omniglot image's character but not who drew it. The original archives do:
every PNG is named ``NNNN_MM.png``, character id ``NNNN`` (tfds' ``label`` + 1) and drawer
``MM`` (1..20). This script fingerprints every archive image by its pixels
(:func:`siamese_utils.drawers.fingerprint`) and writes the table
``fingerprints[label, drawer - 1]``, which :mod:`siamese_utils.drawers` uses to give every
tfds image its drawer back. Run it only to regenerate the shipped table::

    python tools/drawer_table.py ../shared/data/omniglot
"""

from __future__ import annotations

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from siamese_utils import drawers  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "archives",
        help="folder holding images_background.zip and images_evaluation.zip",
    )
    parser.add_argument("--output", default=str(drawers.TABLE_PATH))
    args = parser.parse_args(argv)
    table = drawers.table_from_archives(args.archives)
    drawers.save_table(table, args.output)
    print(
        f"wrote {args.output}: {table.shape[0]} characters x {table.shape[1]} drawers"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

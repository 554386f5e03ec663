"""The book's matplotlib defaults (set once, on import) and the pieces every figure shares.

Figures get an opaque white background (the book's stylesheet inverts them in the theme's
dark mode), text of at least 9 points, and, inside a notebook, SVG output: sharp at any
zoom, with its text at its point size whatever the column width.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

BOOK_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    # The resolution of the raster parts (images) of a figure, and of any PNG made from it.
    "figure.dpi": 150,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "gray_r",
}


# The backend a Jupyter kernel draws with; elsewhere (scripts, tests) nothing is displayed.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


# No text in a figure is smaller than this (points).
SMALLEST_FONT = 9


def use_book_style() -> None:
    """Apply the book's matplotlib defaults (called once when this module is imported)."""
    mpl.rcParams.update(BOOK_STYLE)
    if mpl.get_backend() == INLINE_BACKEND:
        # Only inside a kernel, where matplotlib has already imported the inline backend.
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")


use_book_style()


def glyph(ax, image, title=None, color="black"):
    """One image on ``ax``, ink dark, framed in ``color``, with an optional small title."""
    ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(color)
    if title:
        ax.set_title(title, fontsize=SMALLEST_FONT, color=color)


def row_label(ax, text: str) -> None:
    """A row's name, written level to the left of its first panel."""
    ax.set_ylabel(
        text, rotation=0, ha="right", va="center", fontsize=SMALLEST_FONT
    )


def square_grid(count: int) -> tuple[int, int]:
    """Rows and columns of the most nearly square grid that holds ``count`` panels."""
    columns = int(np.ceil(np.sqrt(count)))
    return int(np.ceil(count / columns)), columns

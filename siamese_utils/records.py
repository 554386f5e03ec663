"""Results the book quotes from runs too long for a page, recorded by ``python -m bench``.

Three seeds of the reproduction, or of every arm of a chapter's experiment, do not fit in the
minutes a chapter may take. Commands run them and append one JSON line per run to a file in
``bench/results``; the chapters read those rows back. Rows are only ever appended, so a
reader keeps the latest row of each run, and only the rows of what the page itself would
run (the same profile, recipe and network).
"""

from __future__ import annotations

import inspect
import json
import pathlib

from siamese_utils import model
from siamese_utils.paths import RECORDS
from siamese_utils.recipe import recipe_for, recorded_recipe

# bench/results seen from a chapter: the notebooks run in book/.
RESULTS_FOLDER = RECORDS  # bench/results, from any folder (siamese_utils.paths)
# Where ``python -m bench.seeds`` records the reproduction over seeds.
SEED_ROWS = RESULTS_FOLDER / "seeds.jsonl"


def read_rows(path: str | pathlib.Path) -> list[dict]:
    """Every row of a JSON-lines record, oldest first; none where the record is missing."""
    path = pathlib.Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def as_json(value):
    """``value`` as it reads back from JSON (tuples become lists), to compare with a row."""
    return json.loads(json.dumps(value))


def same_network(recorded: dict, profile, recipe=None) -> bool:
    """Whether a row's ``network`` settings are the ones ``recipe`` trains at ``profile``'s sizes.

    ``recipe`` defaults to the profile's own (:func:`siamese_utils.recipe.recipe_for`). A
    setting the row does not name was added to the model later; the row's run used the
    setting's default, which :func:`siamese_utils.model.siamese_network` (or the twin it
    passes its sizes to) still declares.
    """
    recipe = recipe or recipe_for(profile)
    current = as_json(recipe.network_kwargs(profile))
    if not set(recorded) <= set(current):
        return False
    defaults = {
        **inspect.signature(model.twin).parameters,
        **inspect.signature(model.siamese_network).parameters,
    }
    return all(
        recorded.get(key, as_json(defaults[key].default)) == value
        for key, value in current.items()
    )


def seed_rows(
    profile, path: str | pathlib.Path = SEED_ROWS, recipe=None
) -> list[dict]:
    """The recorded reproductions of ``profile`` as it is now, the latest run of each seed.

    Only rows of the profile's current recipe and network count: a run of an earlier recipe
    says nothing about this one. ``recipe`` asks for the rows of another recipe the profile
    was trained by (chapter 6 compares the fast recipe with the one it replaced).
    """
    recipe = recipe or recipe_for(profile)
    settings = as_json(recipe.as_dict())
    latest = {}
    for row in read_rows(path):
        if (
            row["profile"] == profile.name
            and as_json(recorded_recipe(row["recipe"])) == settings
            and same_network(row.get("network", {}), profile, recipe)
        ):
            latest[row["seed"]] = row
    return [latest[seed] for seed in sorted(latest)]


def processor() -> str | None:
    """The processor's model name as Linux reports it (``"AMD EPYC"``), else ``None``.

    Machines of one kind here differ in processor, and with it in speed and in the float32
    rounding of training, so a row names the processor it was measured on.
    """
    try:
        lines = pathlib.Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return " ".join(value.split())
    return None

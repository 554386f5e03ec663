"""A run folder that survives interruptions: atomic checkpoints, resumable state, no overwrites.

A run folder holds:

* ``checkpoints/epoch-NNNN/`` - the network (``network.keras``), the optimiser's variables
  (``optimizer.npz``) and the run state (``state.json``) after epoch ``NNNN``; the two
  newest are kept, so a checkpoint damaged after it was written costs one epoch at most;
* ``state.json`` - which checkpoint is the latest, the history so far, the early-stopping
  state and the seconds trained; it is replaced atomically *after* its checkpoint is
  complete, so a run killed in the middle of a save resumes from the previous checkpoint;
* ``best.keras`` - the network of the best validation epoch;
* ``history.csv`` - one row per epoch;
* ``results.json`` - written once at the end, never replaced unless asked.

Every file is first written under a temporary name in the same folder and then renamed
(``os.replace`` is atomic on one file system).
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import shutil
import sys
import tempfile

import numpy as np
from keras import ops

from siamese_utils.model import load_model
from siamese_utils.recipe import recorded_recipe

STATE = "state.json"
RESULTS = "results.json"
BEST = "best.keras"
HISTORY = "history.csv"
CHECKPOINTS = "checkpoints"
RUN_FILES = (STATE, RESULTS, BEST, HISTORY, CHECKPOINTS)


class RunExistsError(FileExistsError):
    """The output folder already holds a run, and neither resuming nor overwriting was asked."""


class DamagedRunError(RuntimeError):
    """A run cannot be resumed: its state and every checkpoint are damaged or missing."""


# How the messages name the two choices: as arguments of reproduce() from Python, as flags of
# python -m siamese_utils train on the command line.
PYTHON_OPTIONS = {"resume": "resume=True", "overwrite": "overwrite=True"}
COMMAND_LINE_OPTIONS = {"resume": "--resume", "overwrite": "--overwrite"}


def prepare_run_folder(
    folder, resume: bool, overwrite: bool, options: dict = PYTHON_OPTIONS
) -> pathlib.Path:
    """Create or check ``folder`` for a run; returns it as a path.

    Raises:
        ValueError: when both ``resume`` and ``overwrite`` are asked.
        RunExistsError: when the folder holds a run and neither is asked, or when
            ``resume`` is asked of a run that already finished.
        PermissionError: when the folder cannot be written.
    """
    if resume and overwrite:
        raise ValueError(
            f"Choose one of {options['resume']} (continue the run) and {options['overwrite']} (start over)."
        )
    folder = pathlib.Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise PermissionError(
            f"Cannot write to the output folder {folder} ({error.strerror or error}). "
            "Choose a writable folder (--output) or fix its permissions."
        ) from error
    existing = [name for name in RUN_FILES if (folder / name).exists()]
    if (folder / RESULTS).exists() and resume:
        raise RunExistsError(
            f"The run in {folder} has finished ({RESULTS} exists); there is nothing to resume. "
            f"Pass {options['overwrite']} to train it again, or choose another output folder."
        )
    if existing and not (resume or overwrite):
        raise RunExistsError(
            f"{folder} already holds a run ({', '.join(existing)}). Pass {options['resume']} to "
            f"continue it from its last checkpoint, {options['overwrite']} to replace it, or choose "
            "another folder."
        )
    if overwrite:
        for name in existing:
            path = folder / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return folder


def _default_mode(directory: bool = False) -> int:
    """The permissions a plain ``open``/``mkdir`` would give (``mkstemp`` gives 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def _write_atomically(path: pathlib.Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the result onto ``path``."""
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix
    )
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, _default_mode())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_json(path, values: dict, overwrite: bool = True) -> None:
    """Write ``values`` as JSON atomically; with ``overwrite=False`` refuse an existing file."""
    path = pathlib.Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} exists; pass overwrite=True to replace it."
        )
    text = json.dumps(values, indent=2, sort_keys=True) + "\n"
    _write_atomically(path, lambda name: pathlib.Path(name).write_text(text))


def save_network(network, path) -> None:
    """Save a ``.keras`` file atomically (the previous file stays whole if this is killed).

    Raises:
        ValueError: when ``path`` does not end in ``.keras``, Keras 3's own format.
    """
    if not str(path).endswith(".keras"):
        raise ValueError(f"Save networks as '.keras' files; got {str(path)!r}.")
    _write_atomically(pathlib.Path(path), lambda name: network.save(name))


def save_checkpoint(
    folder, network, optimizer, epoch: int, state: dict
) -> None:
    """Save the network, optimiser and state after ``epoch`` (1-based), then point the run at them.

    The checkpoint folder is complete before it gets its final name, and the run's
    ``state.json`` is replaced only after that. The checkpoint before it is kept; older ones
    are removed once the new state is in place.
    """
    folder = pathlib.Path(folder)
    root = folder / CHECKPOINTS
    root.mkdir(exist_ok=True)
    final = root / f"epoch-{epoch:04d}"
    staging = pathlib.Path(
        tempfile.mkdtemp(dir=root, prefix=f".epoch-{epoch:04d}-")
    )
    network.save(staging / "network.keras")
    variables = {
        f"v{i:04d}": np.asarray(v)
        for i, v in enumerate(_optimizer_values(optimizer))
    }
    np.savez(staging / "optimizer.npz", **variables)
    saved_state = {
        **state,
        "epoch": epoch,
        "checkpoint": f"{CHECKPOINTS}/{final.name}",
    }
    # The checkpoint's own copy, to resume from.
    write_json(staging / STATE, saved_state)
    os.chmod(staging, _default_mode(directory=True))
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    write_json(folder / STATE, saved_state)
    _write_history_csv(folder / HISTORY, state.get("history", {}))
    keep = {path.name for path in _checkpoints_newest_first(root)[:2]}
    for old in root.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _checkpoints_newest_first(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(
        (p for p in root.glob("epoch-*") if p.is_dir()),
        key=lambda p: p.name,
        reverse=True,
    )


def _optimizer_values(optimizer):

    return [ops.convert_to_numpy(v) for v in optimizer.variables]


def read_state(folder) -> dict | None:
    """The saved state of the run in ``folder``, or ``None`` when it has none.

    Raises:
        DamagedRunError: when ``state.json`` is not valid JSON.
    """
    path = pathlib.Path(folder) / STATE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise DamagedRunError(
            f"{path} is damaged (not valid JSON: {error})."
        ) from error


def _checkpoint_problem(checkpoint: pathlib.Path) -> str | None:
    """Why the checkpoint folder cannot be resumed from, or ``None`` when it is complete."""

    try:
        load_model(checkpoint / "network.keras")
        with np.load(checkpoint / "optimizer.npz") as saved:
            for name in saved.files:
                saved[name]
    except (
        Exception
    ) as error:  # a truncated zip fails in zipfile, h5py or Keras alike
        return f"{type(error).__name__}: {error}"
    return None


def resume_state(
    folder, options: dict = PYTHON_OPTIONS, report=None
) -> dict | None:
    """The state to resume the run in ``folder`` from, checked; ``None`` when it has none.

    Normally the run's ``state.json`` and the checkpoint it names. A damaged ``state.json``
    or a damaged checkpoint (a truncated ``network.keras``, say) is reported through
    ``report`` (a function taking a message) and the run falls back to the newest complete
    checkpoint, which carries its own state.

    Raises:
        DamagedRunError: when no complete checkpoint is left.
    """
    folder = pathlib.Path(folder)
    report = report or (lambda message: None)
    candidates = []
    try:
        state = read_state(folder)
        if state is not None:
            candidates.append(state)
    except DamagedRunError as error:
        report(f"{error} Resuming from the newest complete checkpoint instead.")
    for checkpoint in _checkpoints_newest_first(folder / CHECKPOINTS):
        try:
            candidates.append(json.loads((checkpoint / STATE).read_text()))
        except (OSError, ValueError, UnicodeDecodeError):
            continue  # a checkpoint without a readable state of its own cannot be resumed
    if not candidates:
        return None
    tried = set()
    for state in candidates:
        checkpoint = folder / state.get("checkpoint", "")
        if not state.get("checkpoint") or checkpoint in tried:
            continue
        tried.add(checkpoint)
        problem = _checkpoint_problem(checkpoint)
        if problem is None:
            if len(tried) > 1 or state is not candidates[0]:
                report(
                    f"Resuming from {checkpoint} (after epoch {state['epoch']})."
                )
            return state
        report(
            f"The checkpoint {checkpoint} is damaged ({problem[:300]}); trying the one before it."
        )
    raise DamagedRunError(
        f"The run in {folder} has no complete checkpoint left to resume from. Start it over with "
        f"{options['overwrite']}, or choose another output folder."
    )


def restore_checkpoint(
    folder,
    state: dict,
    network,
    optimizer,
    trainable_variables,
    options: dict = PYTHON_OPTIONS,
) -> None:
    """Load the checkpoint ``state`` points at into ``network`` and ``optimizer``.

    The optimiser is built for ``trainable_variables`` first, so its slots exist to receive
    the saved values.
    """
    checkpoint = pathlib.Path(folder) / state["checkpoint"]
    network.set_weights(load_model(checkpoint / "network.keras").get_weights())
    optimizer.build(trainable_variables)
    saved = np.load(checkpoint / "optimizer.npz")
    values = [saved[f"v{i:04d}"] for i in range(len(saved.files))]
    if len(values) != len(optimizer.variables):
        raise ValueError(
            f"The checkpoint in {checkpoint} holds {len(values)} optimiser variables but this "
            f"optimiser has {len(optimizer.variables)}: it was saved by a different recipe. "
            f"Resume with the same profile and recipe, or start over with {options['overwrite']}."
        )
    for variable, value in zip(optimizer.variables, values):
        variable.assign(value)


def read_history(path) -> dict[str, list[float]]:
    """A run's ``history.csv`` back as ``{metric: [value of epoch 1, 2, ...]}``."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    keys = [key for key in (rows[0] if rows else {}) if key != "epoch"]
    return {key: [float(row[key]) for row in rows] for key in keys}


def _write_history_csv(path: pathlib.Path, history: dict) -> None:
    buffer = io.StringIO()
    keys = sorted(history)
    writer = csv.writer(buffer)
    writer.writerow(["epoch", *keys])
    for row in range(max((len(v) for v in history.values()), default=0)):
        writer.writerow([row + 1, *(history[k][row] for k in keys)])
    text = buffer.getvalue()
    _write_atomically(path, lambda name: pathlib.Path(name).write_text(text))


def run_state(
    output, asked: dict, resume: bool, overwrite: bool, options, chief, verbose
):
    """The run folder (``None`` off the chief) and the state a resumed run continues from.

    Raises:
        ValueError: a resumed run was started with other settings than ``asked``.
    """
    # Other workers read a resumed run's state from the chief's folder but write nothing.
    folder = (
        prepare_run_folder(output, resume, overwrite, options)
        if chief
        else None
    )
    # A damaged state.json or checkpoint is reported, and the run falls back to the newest
    # complete checkpoint (at most one epoch lost).
    state = (
        resume_state(
            output, options, report=lambda m: print(m, file=sys.stderr)
        )
        if resume
        else None
    )
    if resume and state is None and verbose:
        print(f"No checkpoint in {output}; starting a new run.")
    state = state or dict(asked)
    if "recipe" in state:  # a run saved by an earlier version of the records
        state["recipe"] = recorded_recipe(state["recipe"])
    changed = [key for key in asked if state.get(key) != asked[key]]
    if changed:
        raise ValueError(
            f"The run in {output} was started with another {' and '.join(changed)} "
            f"({', '.join(f'{k}={state.get(k)!r}' for k in changed)}); resume it with the same "
            f"settings, or start over with {options['overwrite']}."
        )
    return folder, state

"""A run folder that survives interruptions: atomic checkpoints, resumable state, no overwrites.

A run folder holds:

* ``checkpoints/epoch-NNNN/`` - the network (``network.keras``) and the optimiser's
  variables (``optimizer.npz``) after epoch ``NNNN``;
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
import tempfile

import numpy as np

STATE = "state.json"
RESULTS = "results.json"
BEST = "best.keras"
HISTORY = "history.csv"
CHECKPOINTS = "checkpoints"
RUN_FILES = (STATE, RESULTS, BEST, HISTORY, CHECKPOINTS)


class RunExistsError(FileExistsError):
    """The output folder already holds a run, and neither resuming nor overwriting was asked."""


def prepare_run_folder(folder, resume: bool, overwrite: bool) -> pathlib.Path:
    """Create or check ``folder`` for a run; returns it as a path.

    Raises:
        ValueError: when both ``resume`` and ``overwrite`` are asked.
        RunExistsError: when the folder holds a run and neither is asked, or when
            ``resume`` is asked of a run that already finished.
        PermissionError: when the folder cannot be written.
    """
    if resume and overwrite:
        raise ValueError("Choose one of resume (continue the run) and overwrite (start over).")
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
            "Pass overwrite to train it again, or choose another output folder."
        )
    if existing and not (resume or overwrite):
        raise RunExistsError(
            f"{folder} already holds a run ({', '.join(existing)}). Pass resume to continue "
            "it from its last checkpoint, overwrite to replace it, or choose another folder."
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
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
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
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    text = json.dumps(values, indent=2, sort_keys=True) + "\n"
    _write_atomically(path, lambda name: pathlib.Path(name).write_text(text))


def save_network(network, path) -> None:
    """Save a ``.keras`` file atomically (the previous file stays whole if this is killed)."""
    _write_atomically(pathlib.Path(path), lambda name: network.save(name))


def save_checkpoint(folder, network, optimizer, epoch: int, state: dict) -> None:
    """Save the network and optimiser after ``epoch`` (1-based), then point the state at them.

    Older checkpoints are removed only once the new state is in place.
    """
    folder = pathlib.Path(folder)
    root = folder / CHECKPOINTS
    root.mkdir(exist_ok=True)
    final = root / f"epoch-{epoch:04d}"
    staging = pathlib.Path(tempfile.mkdtemp(dir=root, prefix=f".epoch-{epoch:04d}-"))
    network.save(staging / "network.keras")
    variables = {f"v{i:04d}": np.asarray(v) for i, v in enumerate(_optimizer_values(optimizer))}
    np.savez(staging / "optimizer.npz", **variables)
    os.chmod(staging, _default_mode(directory=True))
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    write_json(folder / STATE, {**state, "epoch": epoch, "checkpoint": f"{CHECKPOINTS}/{final.name}"})
    _write_history_csv(folder / HISTORY, state.get("history", {}))
    for old in root.iterdir():
        if old.name != final.name:
            shutil.rmtree(old, ignore_errors=True)


def _optimizer_values(optimizer):
    from keras import ops

    return [ops.convert_to_numpy(v) for v in optimizer.variables]


def read_state(folder) -> dict | None:
    """The saved state of the run in ``folder``, or ``None`` when it has none."""
    path = pathlib.Path(folder) / STATE
    if not path.exists():
        return None
    return json.loads(path.read_text())


def restore_checkpoint(folder, state: dict, network, optimizer, trainable_variables) -> None:
    """Load the checkpoint ``state`` points at into ``network`` and ``optimizer``.

    The optimiser is built for ``trainable_variables`` first, so its slots exist to receive
    the saved values.
    """
    from siamese_utils.model import load_model

    checkpoint = pathlib.Path(folder) / state["checkpoint"]
    network.set_weights(load_model(checkpoint / "network.keras").get_weights())
    optimizer.build(trainable_variables)
    saved = np.load(checkpoint / "optimizer.npz")
    values = [saved[f"v{i:04d}"] for i in range(len(saved.files))]
    if len(values) != len(optimizer.variables):
        raise ValueError(
            f"The checkpoint in {checkpoint} holds {len(values)} optimiser variables but this "
            f"optimiser has {len(optimizer.variables)}: it was saved by a different recipe. "
            "Resume with the same profile and recipe, or start over with overwrite."
        )
    for variable, value in zip(optimizer.variables, values):
        variable.assign(value)


def _write_history_csv(path: pathlib.Path, history: dict) -> None:
    buffer = io.StringIO()
    keys = sorted(history)
    writer = csv.writer(buffer)
    writer.writerow(["epoch", *keys])
    for row in range(max((len(v) for v in history.values()), default=0)):
        writer.writerow([row + 1, *(history[k][row] for k in keys)])
    text = buffer.getvalue()
    _write_atomically(path, lambda name: pathlib.Path(name).write_text(text))

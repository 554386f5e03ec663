"""What a reproduction measured and how it ran: :class:`Results`, which ``results.json`` is
written from, and the machine it names (:func:`hardware`)."""

from __future__ import annotations

import dataclasses
import json
import os
import platform

import keras

from siamese_utils.records import processor


def hardware() -> dict:
    """What the run ran on: platform, CPUs, Keras backend and the accelerators it sees."""
    # Each backend's own device list, imported only when it is the backend in use (the GPU
    # machine runs Keras on JAX and has no TensorFlow).
    devices = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        devices = [d.device_type for d in tf.config.list_physical_devices()]
    elif keras.backend.backend() == "jax":
        import jax  # the backend in use (see above)

        # The platform for a CPU, the model for an accelerator ("NVIDIA H200").
        devices = [
            str(d.platform if d.platform == "cpu" else d.device_kind)
            for d in jax.devices()
        ]
    accelerators = sorted({d for d in devices if d.upper() not in ("CPU",)})
    # A seeded run repeats exactly on one processor model and thread count; on another,
    # the float32 kernels round differently. 0 threads: TensorFlow's choice, one a core.
    threads = 0
    if keras.backend.backend() == "tensorflow":
        threads = tf.config.threading.get_intra_op_parallelism_threads()
    name = processor() or platform.machine()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": name,
        "cpus": os.cpu_count(),
        "intra_op_threads": threads,
        "backend": keras.backend.backend(),
        "accelerators": accelerators,
        "description": (
            f"{', '.join(accelerators)} ({keras.backend.backend()})"
            if accelerators
            else f"{os.cpu_count()} CPU cores, {name} ({keras.backend.backend()})"
        ),
    }


@dataclasses.dataclass(frozen=True)
class Results:
    """What a reproduction measured and how it ran: ``results.json`` is written from this.

    Accuracies are fractions; seconds are wall time on the machine ``hardware`` names.
    """

    # The test figures (Koch et al., 2015, Tables 1 and 2; the official 20 runs)
    verification_accuracy: float
    one_shot_paper_protocol: float
    one_shot_official_runs: float
    verification_pairs: int
    paper_protocol_trials: int
    official_trials: int
    # The run
    profile: str
    seed: int
    hardware: dict
    train_seconds: float  # the training steps alone
    preparation_seconds: float  # warping the distortion pool (0 without one)
    evaluation_seconds: (
        float  # validation during training and the final test scoring
    )
    epochs_trained: int
    steps_trained: int
    pairs_trained: int
    best_epoch: int
    stopped_by: str  # "early stopping", "time budget" or "max epochs"
    max_minutes: float | None
    validation_one_shot: float  # the best epoch's, which chose the network
    training_drawers: (
        list  # as Omniglot's file names count them (NNNN_MM.png: MM)
    )
    recipe: dict
    network: dict
    omniglot: str  # tfds, or a file of data.export_omniglot
    strategy: str
    replicas: int
    command: str  # how to repeat the run
    versions: dict
    created: str

    # What the command line prints of a finished run.
    HEADLINE = (
        "one_shot_official_runs",
        "one_shot_paper_protocol",
        "verification_accuracy",
        "train_seconds",
        "evaluation_seconds",
        "profile",
        "seed",
    )

    def as_dict(self) -> dict:
        """Exactly what ``results.json`` holds (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

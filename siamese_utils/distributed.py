"""Data parallelism with TensorFlow's own engine, ``tf.distribute``.

Every replica (a GPU, a logical CPU, or a process on another host) holds a full copy of the
Siamese network. Each training step, the global batch is cut into one slice per replica: of
image pairs for the paper's recipe, of whole episodes for all-pairs training (a pair never
straddles two replicas, and neither does an episode). A replica computes its share of the
loss and its gradients, and the replicas add their gradients up (an all-reduce) before
every copy applies the same update. The copies therefore never drift apart, and a step on
``R`` replicas of ``B / R`` pairs (or ``E / R`` episodes) each computes the same update as
one device would on the whole batch.

Three strategies are offered (:data:`STRATEGIES`):

``default``
    One device, no distribution. The reproduction trains with Keras' ``fit``.
``mirrored``
    ``tf.distribute.MirroredStrategy`` over every local GPU (on a machine without GPUs,
    over the logical CPUs made by :func:`use_logical_cpus`).
``multi-worker``
    ``tf.distribute.MultiWorkerMirroredStrategy``: one process per host (or per GPU), the
    cluster described by the ``TF_CONFIG`` environment variable (:func:`local_cluster`).

Both distributed strategies train with one custom loop around :func:`replica_step`. Keras'
``fit`` works under ``MirroredStrategy`` but not under ``MultiWorkerMirroredStrategy`` in
Keras 3 (it fails converting a ``PerReplica`` value to a tensor, keras-team/keras#20585), so
the loop drives ``strategy.run`` itself, and both strategies share it rather than having two
code paths to keep equal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from siamese_utils import data, model
from siamese_utils.pipeline import training_dataset
from siamese_utils.recipe import STRATEGIES, check_distributable, make_optimizer
from siamese_utils.seeding import set_seed


def use_logical_cpus(count: int) -> None:
    """Split this machine's CPU into ``count`` logical devices (replicas for ``mirrored``).

    This lets a machine without GPUs try ``MirroredStrategy``: the replicas share the same
    cores, so it shows the mechanics, not a speed-up. TensorFlow accepts the split only
    before it starts its runtime, so call this first thing in a process. It also gives
    TensorFlow's inter-op thread pool a thread per replica beyond the cores.

    Raises:
        ValueError: ``count`` is not a positive integer.
        RuntimeError: TensorFlow's runtime has already started in this process.
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}.")

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
        # Every replica's step runs on the shared inter-op thread pool, which by default has
        # one thread per core. A replica that waits for its data or for the others' gradients
        # holds a thread, so on 2 cores two replicas can hold them all. One run of the tests
        # hung in a two-replica step (not reproduced in 22 tries); a thread per replica on
        # top of the cores leaves room for whatever they wait on.
        threads = tf.config.threading.get_inter_op_parallelism_threads()
        wanted = (os.cpu_count() or 1) + count
        if threads < wanted:
            tf.config.threading.set_inter_op_parallelism_threads(wanted)
    except RuntimeError as error:
        raise RuntimeError(
            "TensorFlow has already started in this process, so its CPU can no longer be split "
            f"into {count} logical devices. Split it before anything else runs (the training "
            "command's --logical-cpus does), or use a fresh process."
        ) from error


def make_strategy(name: str):
    """The ``tf.distribute`` strategy called ``name`` (one of :data:`STRATEGIES`).

    Create it before any other TensorFlow work in the process: ``MultiWorkerMirroredStrategy``
    must start its collective runtime first.

    Raises:
        ValueError: for a name that is not a strategy; the message lists the valid ones.
    """
    if name not in STRATEGIES:
        raise ValueError(
            f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}."
        )
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices(
            "GPU"
        ) or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(
            [device.name for device in devices]
        )
    return tf.distribute.MultiWorkerMirroredStrategy()


def strategy_name(strategy) -> str:
    """The :data:`STRATEGIES` name of a strategy (``None`` is the default one)."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "multi-worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    return "default"


def is_chief(strategy) -> bool:
    """Whether this process writes the run's files: the ``chief``, or worker 0 without one.

    Every process trains and evaluates (they hold identical weights, so they take the same
    early-stopping decisions); only the chief writes checkpoints and results.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and not has_chief
    )


def local_cluster(workers: int) -> list[dict]:
    """``TF_CONFIG`` values for ``workers`` processes on this machine (127.0.0.1, free ports).

    Start one process per returned value, with ``TF_CONFIG`` set to its JSON; worker 0 is
    the chief. On several hosts, list each host's address instead.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(
            f"workers must be a positive integer, got {workers!r}."
        )
    addresses = [f"127.0.0.1:{_free_port()}" for _ in range(workers)]
    return [
        {
            "cluster": {"worker": addresses},
            "task": {"type": "worker", "index": index},
        }
        for index in range(workers)
    ]


def launch(
    module: str, arguments: list[str], workers: int = 1, timeout: float = 600.0
) -> list[str]:
    """Run ``python -m module arguments`` as ``workers`` processes of one local cluster.

    With ``workers > 1`` each process gets its ``TF_CONFIG`` from :func:`local_cluster`
    (start it with ``--strategy multi-worker``); they run at the same time, as the
    collective all-reduce needs. Returns each process's standard output, worker 0 first.

    Raises:
        RuntimeError: a process failed or ran past ``timeout`` seconds; the message holds
            the end of its error output.
    """
    configs = local_cluster(workers) if workers > 1 else [None]
    processes = []
    for config in configs:
        environment = dict(os.environ)
        if config is not None:
            environment["TF_CONFIG"] = json.dumps(config)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", module, *arguments],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs, failures = [], []
    deadline = time.monotonic() + timeout
    for index, process in enumerate(processes):
        try:
            out, err = process.communicate(
                timeout=max(1.0, deadline - time.monotonic())
            )
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            out, err = process.communicate()
            err += f"\n(killed after {timeout:.0f} s)"
        if process.returncode:
            failures.append(
                f"worker {index} exited with {process.returncode}:\n{err[-2000:]}"
            )
        outputs.append(out)
    if failures:
        raise RuntimeError(
            f"python -m {module} {' '.join(arguments)} failed.\n"
            + "\n".join(failures)
        )
    return outputs


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def replica_step(loss_of, variables, optimizer, batch, replicas: int):
    """One step on one replica's slice of the global batch; returns its share.

    ``loss_of(batch)`` is the loss of a slice (the recipe's sampler makes it,
    ``recipe.sampling.batch_loss``): a mean over its pairs or its episodes,
    plus the network's L2 penalties. Every replica's slice holds as many
    pairs or whole episodes as the others, so the global batch's loss is the
    mean of the slices' losses, and this replica contributes ``1 / replicas``
    of it. The optimiser then adds the replicas' gradients up (an all-reduce)
    before it updates, so the update equals one device's on the whole batch.
    This is the same scaling Keras' ``fit`` applies under a strategy.
    """
    with tf.GradientTape() as tape:
        share = loss_of(batch) / replicas
    gradients = tape.gradient(share, variables)
    optimizer.apply_gradients(zip(gradients, variables))
    return share


class DistributedTrainer:
    """Trains a Siamese network under a strategy, a :func:`replica_step` each.

    Build the network and the optimiser inside ``strategy.scope()`` (their
    variables are then mirrored on every replica), then call :meth:`train` for
    as many steps as needed.

    Args:
        strategy: a ``tf.distribute`` strategy.
        network: the two-input Siamese network, built under the strategy's
            scope.
        optimizer: its Keras optimiser, built under the same scope.
        make_dataset: ``make_dataset(first, count, total)`` returns the
            ``tf.data`` pipeline of the replicas ``first .. first + count - 1``
            of ``total``, one per-replica batch after the other
            (:func:`siamese_utils.pipeline.training_dataset`).
        recipe: the recipe trained: its sampler decides between pairs and whole
            episodes (``episodes_per_step / replicas`` of them a replica) and
            its loss.
    """

    def __init__(self, strategy, network, optimizer, make_dataset, recipe):
        self.strategy = strategy
        self.network = network
        self.optimizer = optimizer
        self.replicas = strategy.num_replicas_in_sync
        check_distributable(recipe, self.replicas)
        with strategy.scope():
            # What one replica trains on its slice: the network up to its score
            # (pairs) or its all-pairs trainer over whole episodes.
            fitted = recipe.sampling.model_to_fit(
                network, recipe, self.replicas
            )
            self.loss_of = recipe.sampling.batch_loss(fitted)
            self.variables = fitted.trainable_variables
            # Create the optimiser's slots now, mirrored, not lazily inside the
            # first step; the ranking loss's frozen bias is not among the
            # variables, as in Keras' fit.
            optimizer.build(self.variables)

        def pipeline(context):
            # One pipeline per worker; it feeds that worker's replicas, each
            # its own slice.
            per_pipeline = self.replicas // context.num_input_pipelines
            first = context.input_pipeline_id * per_pipeline
            return make_dataset(first, per_pipeline, self.replicas)

        self.iterator = iter(
            strategy.distribute_datasets_from_function(pipeline)
        )

        @tf.function
        def distributed_step(iterator):
            batch = next(iterator)
            shares = strategy.run(
                lambda b: replica_step(
                    self.loss_of,
                    self.variables,
                    self.optimizer,
                    b,
                    self.replicas,
                ),
                args=(batch,),
            )
            return strategy.reduce(
                tf.distribute.ReduceOp.SUM, shares, axis=None
            )

        self._step = distributed_step

    @classmethod
    def for_recipe(
        cls,
        strategy,
        network,
        optimizer,
        split,
        profile,
        recipe,
        seed: int,
        start_epoch: int = 0,
    ):
        """A trainer fed the recipe's stream of ``split``, cut per replica.

        The stream starts at ``start_epoch``.
        """
        return cls(
            strategy,
            network,
            optimizer,
            lambda first, count, total: training_dataset(
                split, profile, recipe, seed, start_epoch, (first, count, total)
            ),
            recipe,
        )

    def train(self, steps: int) -> float:
        """Run ``steps`` training steps; returns their mean (global) loss."""
        total = 0.0
        for _ in range(steps):
            total += float(self._step(self.iterator))
        return total / steps


def mirrored_network(strategy, profile, recipe) -> keras.Model:
    """The network ``recipe`` trains at ``profile``'s sizes, for ``strategy`` (call in its scope).

    With more than one replica its batch normalisation takes the statistics of the global
    batch, as one device does: alone, each replica would normalise by its own episodes, and
    the replicas together would train another network than one device.
    """
    network = recipe.build_network(profile)
    if strategy.num_replicas_in_sync > 1:
        for layer in model.twin_of(network).layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True  # read when the layer is called
    return network


# The timed steps are split into this many chunks, each timed on its own, so that a rate
# comes with the spread between chunks of one run.
TIMED_CHUNKS = 4


def throughput(
    profile, recipe, strategy, steps: int, seed: int, data_dir=None
) -> dict:
    """Train ``steps`` steps of ``recipe`` under ``strategy`` and time them (after a warm-up step).

    The ``steps - 1`` timed steps run in :data:`TIMED_CHUNKS` chunks, each timed alone.

    Returns:
        ``replicas``, ``steps``, ``seconds``, ``steps_per_second`` (all timed steps),
        ``chunk_steps_per_second`` (each chunk's), ``images_per_second`` (images through
        the twin: two per pair, one per episode image, comparable across recipes),
        ``pairs_per_second`` (pairs scored: a batch's, or every pair of each episode) and
        ``weights`` (the trained network's trainable weights as NumPy arrays, to compare
        runs; batch normalisation's moving statistics are not trained and left out) and
        ``all_weights`` (every weight, moving statistics included, in ``get_weights``
        order: what a network needs to be scored).
    """
    set_seed(seed)
    train = data.load_split(
        "train", profile.image_size, data_dir=data_dir
    ).select_drawers(data.TRAINING_DRAWERS)
    with strategy.scope():
        network = mirrored_network(strategy, profile, recipe)
        optimizer = make_optimizer(recipe)
    trainer = DistributedTrainer.for_recipe(
        strategy, network, optimizer, train, profile, recipe, seed
    )
    trainer.train(1)  # traces the step and fills the pipeline; not timed
    chunks = [
        len(part)
        for part in np.array_split(np.arange(steps - 1), TIMED_CHUNKS)
        if len(part)
    ]
    chunk_seconds = []
    for count in chunks:
        started = time.perf_counter()
        trainer.train(count)
        chunk_seconds.append(time.perf_counter() - started)
    seconds = sum(chunk_seconds)
    images = recipe.images_per_step or 2 * profile.batch_size
    return {
        "replicas": trainer.replicas,
        "steps": steps,
        "seconds": seconds,
        "steps_per_second": (steps - 1) / seconds,
        "chunk_steps_per_second": [
            count / taken for count, taken in zip(chunks, chunk_seconds)
        ],
        "images_per_second": (steps - 1) * images / seconds,
        "pairs_per_second": (steps - 1)
        * recipe.sampling.pairs_per_step(profile, recipe)
        / seconds,
        "weights": [
            ops.convert_to_numpy(variable)
            for variable in network.trainable_variables
        ],
        "all_weights": network.get_weights(),
    }

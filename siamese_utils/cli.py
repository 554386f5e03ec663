"""The package's command lines; nothing in the package imports this module.

``python -m siamese_utils`` runs :func:`main`, which has three commands:

``train``
    The whole reproduction (:func:`siamese_utils.reproduce.reproduce`): train by a profile's
    recipe, stop early on one-shot validation accuracy, write ``results.json``::

        python -m siamese_utils train --profile fast        # minutes on a CPU
        python -m siamese_utils train --profile paper       # the paper's scale, for a GPU

``throughput``
    Time the reproduction's training step under a ``tf.distribute`` strategy
    (:func:`siamese_utils.distributed.throughput`) and print one JSON line.

``export``
    Write Omniglot into one NumPy file for a machine without TensorFlow
    (:func:`siamese_utils.data.export_omniglot`)::

        python -m siamese_utils export --output omniglot-105.npz
        # there: KERAS_BACKEND=jax SIAMESE_OMNIGLOT_FILE=omniglot-105.npz \
        #     python -m siamese_utils train --profile paper
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np

from siamese_utils import checkpoints, data
from siamese_utils.paths import run_folder
from siamese_utils.profiles import PROFILES, get_profile
from siamese_utils.recipe import RECIPES, STRATEGIES, recipe_for
from siamese_utils.reproduce import reproduce
from siamese_utils.run_results import Results
from siamese_utils.seeding import DEFAULT_SEED

PROGRAM = "python -m siamese_utils"


def _add_strategy_arguments(parser) -> None:
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="default",
        help="tf.distribute strategy: one device (default), all local GPUs "
        "(mirrored) or the processes of $TF_CONFIG (multi-worker); the last two "
        "need a recipe whose steps split among the replicas (pairs, or "
        "all-pairs with episodes_per_step a multiple of them)",
    )
    parser.add_argument(
        "--logical-cpus",
        type=int,
        default=None,
        help="split the CPU into this many logical devices first (replicas for "
        "'mirrored' on a machine without GPUs)",
    )


def _strategy(args, parser):
    """The strategy ``--strategy`` / ``--logical-cpus`` ask for, made before any other
    TensorFlow work in the process (both must come first). A bad ``--logical-cpus`` ends the
    command through ``parser.error``."""
    # Imported here: one device needs no TensorFlow (the JAX backend has none).
    from siamese_utils import distributed

    if args.logical_cpus is not None:
        if args.logical_cpus < 1:
            parser.error("--logical-cpus must be a positive integer")
        distributed.use_logical_cpus(args.logical_cpus)
    return distributed.make_strategy(args.strategy)


def _add_data_dir_argument(parser) -> None:
    """Add ``--data-dir``: where tfds finds Omniglot (``train`` and ``export``)."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="tfds data folder (default: $TFDS_DATA_DIR)",
    )


def _add_recipe_arguments(parser, recipe_help: str) -> None:
    """Add ``--profile``, ``--recipe``, ``--episodes-per-step`` and ``--batch-norm`` (both
    commands' run settings)."""
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="run sizes (default: $SIAMESE_PROFILE, else 'fast')",
    )
    parser.add_argument(
        "--recipe", choices=sorted(RECIPES), default=None, help=recipe_help
    )
    parser.add_argument(
        "--episodes-per-step",
        type=int,
        default=None,
        help="all-pairs recipes: episodes in one step (override the recipe's)",
    )
    parser.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="batch normalisation before the block's ReLUs, or not (override the recipe's)",
    )


def _recipe(args, profile, **overrides):
    """The recipe ``--recipe`` names (the profile's own when omitted), with the overrides given.

    Raises:
        ValueError: for an override the recipe refuses (a non-positive count, say).
    """
    chosen = RECIPES[args.recipe] if args.recipe else recipe_for(profile)
    overrides["episodes_per_step"] = args.episodes_per_step
    overrides["batch_norm"] = args.batch_norm
    return dataclasses.replace(
        chosen,
        **{key: value for key, value in overrides.items() if value is not None},
    )


def _train_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "train",
        prog=f"{PROGRAM} train",
        help="the reproduction: train, stop early, evaluate, write results.json",
        description="Train the Siamese network of Koch et al. (2015) by a profile's recipe, "
        "stop early on one-shot validation accuracy, and write results.json.",
    )
    _add_recipe_arguments(
        parser, "how to train (default: the profile's own recipe)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="the run's seed"
    )
    parser.add_argument(
        "--output",
        default=None,
        help="run folder (default: results/<profile>-seed<seed>)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--resume", action="store_true", help="continue the run in --output"
    )
    group.add_argument(
        "--overwrite", action="store_true", help="replace the run in --output"
    )
    _add_data_dir_argument(parser)
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="override the recipe's"
    )
    parser.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="override the recipe's",
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="train only the whole epochs that fit in this many minutes",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_strategy_arguments(parser)
    parser.set_defaults(run=_train)
    return parser


def _train(args, parser, argv) -> int:
    strategy = None  # one device: Keras' fit
    if args.strategy != "default" or args.logical_cpus is not None:
        strategy = _strategy(args, parser)
    if args.strategy == "default":
        strategy = None
    profile = get_profile(args.profile)
    output = args.output or run_folder(f"{profile.name}-seed{args.seed}")
    try:
        recipe = _recipe(
            args,
            profile,
            max_epochs=args.max_epochs,
            steps_per_epoch=args.steps_per_epoch,
        )
        run = reproduce(
            profile,
            args.seed,
            output,
            resume=args.resume,
            overwrite=args.overwrite,
            recipe=recipe,
            progress=not args.quiet,
            verbose=not args.quiet,
            data_dir=args.data_dir,
            strategy=strategy,
            command=f"{PROGRAM} " + " ".join(argv),
            options=checkpoints.COMMAND_LINE_OPTIONS,
            max_minutes=args.max_minutes,
        )
    except (
        checkpoints.RunExistsError,
        checkpoints.DamagedRunError,
        PermissionError,
        ValueError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for key in Results.HEADLINE:
        print(f"{key:>24}: {getattr(run.results, key)}")
    if run.folder is not None:
        print(f"results: {run.folder / checkpoints.RESULTS}")
    else:
        print("results: written by the chief worker")
    return 0


def _throughput_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "throughput",
        prog=f"{PROGRAM} throughput",
        help="time training steps under a tf.distribute strategy",
        description="Time the reproduction's training step under a tf.distribute strategy; "
        "print one JSON line (replicas, steps, seconds, steps/s, pairs/s).",
    )
    _add_recipe_arguments(
        parser, "the recipe whose step is timed (default: the profile's own)"
    )
    _add_strategy_arguments(parser)
    parser.add_argument(
        "--steps",
        type=int,
        default=20,
        help="training steps (the first is not timed)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--weights",
        default=None,
        help="save the trained weights here (.npz, the chief only), to compare runs: "
        "trainable_NNNN the trainable weights, all_NNNN every weight",
    )
    parser.set_defaults(run=_throughput)
    return parser


def _throughput(args, parser, argv) -> int:
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is a warm-up)")
    # tf.distribute: TensorFlow only, so imported where it is used.
    from siamese_utils import distributed

    strategy = _strategy(args, parser)
    profile = get_profile(args.profile)
    try:
        recipe = _recipe(args, profile)
        measured = distributed.throughput(
            profile, recipe, strategy, args.steps, args.seed
        )
    except (
        ValueError
    ) as error:  # a recipe whose steps the replicas cannot share
        print(f"error: {error}", file=sys.stderr)
        return 2
    weights = measured.pop("weights")
    every_weight = measured.pop("all_weights")
    if args.weights and distributed.is_chief(strategy):
        np.savez(
            args.weights,
            **{f"trainable_{i:04d}": w for i, w in enumerate(weights)},
            **{f"all_{i:04d}": w for i, w in enumerate(every_weight)},
        )
    print(
        json.dumps(
            {"strategy": args.strategy, "profile": profile.name, **measured}
        )
    )
    return 0


def _export_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "export",
        prog=f"{PROGRAM} export",
        help="write Omniglot into one .npz for a machine without TensorFlow",
        description="Write Omniglot's background and evaluation splits (images, "
        "characters, alphabets, drawers) into one .npz; on a machine without "
        f"TensorFlow, point ${data.OMNIGLOT_FILE_VARIABLE} at it.",
    )
    parser.add_argument("--output", required=True, help="the .npz to write")
    parser.add_argument(
        "--image-size",
        type=int,
        default=data.ORIGINAL_IMAGE_SIZE,
        help="side of the stored images (the profile's; default 105, the paper's)",
    )
    _add_data_dir_argument(parser)
    parser.set_defaults(run=_export)
    return parser


def _export(args, parser, argv) -> int:
    try:
        path = data.export_omniglot(
            args.output, args.image_size, data_dir=args.data_dir
        )
    except (FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    megabytes = os.path.getsize(path) / 1e6
    print(f"wrote {path} ({megabytes:.1f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m siamese_utils COMMAND ...``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )
    parsers = {
        "train": _train_parser(commands),
        "throughput": _throughput_parser(commands),
        "export": _export_parser(commands),
    }
    args = parser.parse_args(argv)
    return args.run(args, parsers[args.command], argv)

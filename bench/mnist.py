"""The paper's Table 3 over seeds: MNIST 10-way one-shot with networks trained on Omniglot.

``python -m bench.mnist [--profile fast] [--seeds 2015 2016 2017]`` trains the profile's
reproduction for each seed (``python -m siamese_utils train``: the recipe, early stopping on
the validation tasks) into ``results/mnist-PROFILE-seedSEED``, or reuses the network a
finished run left there, and scores it without any fine-tuning on 400 MNIST 10-way one-shot
trials drawn with that seed, with pixel nearest neighbours on the same trials. It appends
one row per seed to ``bench/results/mnist.jsonl``, with the network's Omniglot figures
beside its MNIST ones; chapter 6 shows their mean over seeds beside the paper's Table 3. A
seed's network and its trials are both drawn anew, so the spread over seeds holds both
sources of chance.

``--reduced`` does the same with the paper's Table 3 set-up: the profile's network and
recipe on 35x35 images (:func:`siamese_utils.mnist.reduced_profile`), trained into
``results/mnist-PROFILE-35px-seedSEED``; its rows carry ``image_size`` 35.

A finished run of another recipe or image size in that folder is refused, never replaced:
the message says how to start it again.
"""

from __future__ import annotations

import json

from bench import common
from siamese_utils import evaluate, mnist, model, records, reproduce
from siamese_utils.data import TRAINING_DRAWERS
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import recipe_for, recorded_recipe

ROWS = RECORDS / "mnist.jsonl"
# The Omniglot figures of the network, as results.json names them, kept in its row.
OMNIGLOT_FIGURES = (
    "validation_one_shot",
    "one_shot_official_runs",
    "one_shot_paper_protocol",
    "train_seconds",
)


def is_reduced(profile) -> bool:
    """Whether ``profile`` is its named profile on other images (the reduced network)."""
    return profile.image_size != get_profile(profile.name).image_size


def size_tag(profile) -> str:
    """``"-35px"`` for the reduced network, ``""`` for the profile's own: what its run
    folders and its levers' names carry."""
    return f"-{profile.image_size}px" if is_reduced(profile) else ""


def run_folder(profile, seed: int):
    """Where the seed's network is trained and kept."""
    return RUNS / f"mnist-{profile.name}{size_tag(profile)}-seed{seed}"


def command_for(profile, seed: int) -> str:
    """The command line that trains and scores ``profile``'s network for ``seed``."""
    reduced = " --reduced" if is_reduced(profile) else ""
    return f"python -m bench.mnist --profile {profile.name}{reduced} --seeds {seed}"


def trained_network(
    profile,
    seed: int,
    command: str,
    recipe=None,
    folder=None,
    training_drawers=TRAINING_DRAWERS,
):
    """The seed's network and its run's ``results.json``: a finished run's, or a new
    reproduction's when the folder holds none.

    ``recipe`` trains it (the profile's own when omitted) in ``folder`` (:func:`run_folder`
    when omitted), on the background drawers ``training_drawers`` (indices from 0; the
    paper's 12 when omitted).

    Raises:
        ValueError: the folder holds a finished run of another recipe or other drawers than
            the ones asked for, or a network for other images (it is left as it is).
    """
    recipe = recipe or recipe_for(profile)
    folder = folder or run_folder(profile, seed)
    path, results = folder / "best.keras", folder / "results.json"
    if not (path.is_file() and results.is_file()):
        print(f"training seed {seed} into {folder}", flush=True)
        reproduce.reproduce(
            profile,
            seed,
            folder,
            recipe=recipe,
            overwrite=True,
            command=command,
            training_drawers=training_drawers,
        )
    recorded = json.loads(results.read_text())
    drawers = [d + 1 for d in sorted(training_drawers)]
    if recorded.get("training_drawers", drawers) != drawers:
        raise ValueError(
            f"The run in {folder} trained on drawers {recorded['training_drawers']}, not "
            f"the {drawers} asked for. Delete that folder to train it again."
        )
    # A record of an earlier version describes the same recipe in its own words.
    if records.as_json(recorded_recipe(recorded["recipe"])) != records.as_json(
        recipe.as_dict()
    ):
        raise ValueError(
            f"The run in {folder} trained by another recipe than the one asked for "
            f"({profile.name} profile). Delete that folder to train it again."
        )
    network = model.load_model(path)
    if tuple(network.input_shape[0][1:]) != profile.input_shape:
        raise ValueError(
            f"The network in {folder} takes {network.input_shape[0][1:]} images, not "
            f"the {profile.input_shape} this run scores. Delete that folder to train "
            "it again."
        )
    return network, recorded


def score_seed(profile, seed: int, digits, labels) -> dict:
    """One seed's row: its network and pixel nearest neighbours on its 400 trials."""
    command = command_for(profile, seed)
    network, results = trained_network(profile, seed, command)
    trials = mnist.mnist_trials(digits, labels, seed=seed)
    on_digits = evaluate.one_shot(network, trials)
    pixels = evaluate.pixel_nearest_neighbour(trials)
    return {
        "profile": profile.name,
        "seed": seed,
        "image_size": profile.image_size,
        "trials": len(trials.queries),
        "network": on_digits.accuracy,
        "pixels": pixels.accuracy,
        "network_correct": on_digits.correct.astype(int).tolist(),
        "pixels_correct": pixels.correct.astype(int).tolist(),
        **{key: results[key] for key in OMNIGLOT_FIGURES},
        "run_folder": str(run_folder(profile, seed).name),
        "command": command,
        "machine": common.machine(),
        "date": common.now(),
    }


def main(argv=None) -> int:
    parser = common.command_parser("bench.mnist", __doc__, seeds="several")
    parser.add_argument(
        "--reduced",
        action="store_true",
        help="the paper's Table 3 set-up: the profile's network on "
        f"{mnist.REDUCED_IMAGE_SIZE}x{mnist.REDUCED_IMAGE_SIZE} images",
    )
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
    if args.reduced:
        profile = mnist.reduced_profile(profile)
    digits, labels = mnist.load_mnist_test(profile.image_size)
    for seed in args.seeds:
        row = score_seed(profile, seed, digits, labels)
        common.append_row(ROWS, row)
        print(
            f"seed {seed}: network {100 * row['network']:.1f}%, pixel nearest "
            f"neighbours {100 * row['pixels']:.1f}% on {row['trials']} trials",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

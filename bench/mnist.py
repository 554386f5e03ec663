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

A finished run of another recipe in that folder is refused, never replaced: the message
says how to start it again.
"""

from __future__ import annotations

import json

from bench import common
from siamese_utils import evaluate, mnist, model, records, reproduce
from siamese_utils.paths import RECORDS, RUNS
from siamese_utils.profiles import get_profile
from siamese_utils.recipe import recipe_for

ROWS = RECORDS / "mnist.jsonl"
# The Omniglot figures of the network, as results.json names them, kept in its row.
OMNIGLOT_FIGURES = (
    "validation_one_shot",
    "one_shot_official_runs",
    "one_shot_paper_protocol",
    "train_seconds",
)


def run_folder(profile, seed: int):
    """Where the seed's network is trained and kept."""
    return RUNS / f"mnist-{profile.name}-seed{seed}"


def trained_network(profile, seed: int, command: str):
    """The seed's network and its run's ``results.json``: a finished run's, or a new
    reproduction's when the folder holds none.

    Raises:
        ValueError: the folder holds a finished run of another recipe than the profile's
            current one (it is left as it is).
    """
    folder = run_folder(profile, seed)
    path, results = folder / "best.keras", folder / "results.json"
    if not (path.is_file() and results.is_file()):
        print(f"training seed {seed} into {folder}", flush=True)
        reproduce.reproduce(
            profile, seed, folder, overwrite=True, command=command
        )
    recorded = json.loads(results.read_text())
    if records.as_json(recorded["recipe"]) != records.as_json(
        recipe_for(profile).as_dict()
    ):
        raise ValueError(
            f"The run in {folder} trained by another recipe than the {profile.name} "
            f"profile's current one. Delete that folder to train it again."
        )
    return model.load_model(path), recorded


def score_seed(profile, seed: int, digits, labels) -> dict:
    """One seed's row: its network and pixel nearest neighbours on its 400 trials."""
    command = f"python -m bench.mnist --profile {profile.name} --seeds {seed}"
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
    args = parser.parse_args(argv)
    profile = get_profile(args.profile)
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

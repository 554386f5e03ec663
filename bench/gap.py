"""Why one network scores higher on the official runs than on the paper's protocol.

``python -m bench.gap [RUN_FOLDER]`` loads a trained network (default: the fast recipe's
seed-2015 run of ``python -m bench.seeds``, ``results/seeds-fast-seed2015``) and scores it on

* the official 20 runs of ``all_runs.zip`` (400 trials), alphabet by alphabet;
* the paper's protocol on the same 10 test alphabets with many more tasks (4,000 trials
  each), drawing the two drawers of every task from three groups: the test drawers of
  the split (17-20, what ``results.json`` reports), drawers 1-8 (the only drawers the
  official runs use) and all 20;
* tasks that copy each official run's alphabet and (query, candidate) drawers but draw
  their 20 characters afresh (8,000 trials): what the official runs measure apart from
  their particular characters.

Every accuracy comes with a 95% interval from the spread between tasks (20 trials of one
task share their candidates, so tasks, not trials, are the independent units). The figures
go to ``bench/results/gap.json``, which chapter 6 reads.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

from bench import common
from siamese_utils import data, drawers, evaluate, model
from siamese_utils.paths import RECORDS, ROOT, run_folder
from siamese_utils.seeding import stream

RESULTS = RECORDS / "gap.json"
# The headline recipe, seed 2015 (bench.seeds)
DEFAULT_RUN = run_folder("seeds-fast-seed2015")
TASKS_PER_ALPHABET = (
    20  # 10 alphabets x 20 tasks x 20 queries = 4,000 trials a group
)
DRAWER_GROUPS = {
    "test drawers 17-20 (the split's)": tuple(range(16, 20)),
    "drawers 1-8 (the official runs')": tuple(range(8)),
    "all 20 drawers": tuple(range(20)),
}


def interval(correct: np.ndarray, task_size: int) -> dict:
    """Accuracy and a 95% interval (1.96 standard errors of the mean over tasks)."""
    tasks = np.asarray(correct, float).reshape(-1, task_size).mean(axis=1)
    half = (
        1.96 * tasks.std(ddof=1) / np.sqrt(len(tasks))
        if len(tasks) > 1
        else float("nan")
    )
    return {
        "accuracy": float(tasks.mean()),
        "low": float(tasks.mean() - half),
        "high": float(tasks.mean() + half),
        "trials": int(len(correct)),
        "tasks": int(len(tasks)),
    }


def official_run_drawers(official) -> list[dict]:
    """Where each official run took its images (alphabet, query and candidate drawers,
    counted from 1) and the network's accuracy on it (``official``: its result)."""
    runs = evaluate.official_runs(image_size=data.ORIGINAL_IMAGE_SIZE)
    labels, drawer_of = drawers.locate_images(runs.images)
    full = data.load_split("test", data.ORIGINAL_IMAGE_SIZE)
    alphabet_of_label = dict(
        zip(full.characters.tolist(), full.alphabets.tolist())
    )
    per_run = []
    for run in range(20):
        rows = np.arange(20 * run, 20 * (run + 1))
        query = runs.queries[rows[0]]
        per_run.append(
            {
                "run": run + 1,
                "alphabet": full.alphabet_names[
                    alphabet_of_label[int(labels[query])]
                ],
                "query_drawer": int(drawer_of[query]) + 1,
                "candidate_drawer": int(drawer_of[runs.candidates[rows[0], 0]])
                + 1,
                "accuracy": float(official.correct[rows].mean()),
            }
        )
    return per_run


def by_drawer_group(network, evaluation, seed: int) -> dict:
    """The paper's protocol on the test alphabets, drawers drawn from each group."""
    groups = {}
    for name, chosen in DRAWER_GROUPS.items():
        trials = evaluate.paper_protocol_trials(
            evaluation.select_drawers(chosen),
            num_trials=20 * TASKS_PER_ALPHABET * len(data.TEST_ALPHABETS),
            seed=stream(seed, "test-trials"),
        )
        result = evaluate.one_shot(network, trials)
        groups[name] = {
            "drawers": [d + 1 for d in chosen],
            **interval(result.correct, 20),
            "by_alphabet": {
                a: float(result.correct[np.array(trials.groups) == a].mean())
                for a in data.TEST_ALPHABETS
            },
        }
    return groups


def fresh_characters(network, evaluation, per_run, seed: int) -> np.ndarray:
    """Outcomes of tasks that copy each official run's alphabet and drawers but draw
    their characters afresh, run by run."""
    rng = np.random.default_rng(stream(seed, "fresh-characters"))
    copied = []
    for run in per_run:
        trials = evaluate.paper_protocol_trials(
            evaluation,
            num_trials=20 * TASKS_PER_ALPHABET,
            seed=rng,
            alphabets=(run["alphabet"],),
            drawer_pair=(run["query_drawer"] - 1, run["candidate_drawer"] - 1),
        )
        copied.append(evaluate.one_shot(network, trials).correct)
    return np.concatenate(copied)


def analyse(folder) -> dict:
    """Every figure of the analysis for the run in ``folder``."""
    folder = pathlib.Path(folder)
    results = json.loads((folder / "results.json").read_text())
    network = model.load_model(folder / "best.keras")
    size = int(network.inputs[0].shape[1])
    evaluation = data.load_split("test", size).select_alphabets(
        data.TEST_ALPHABETS
    )
    official = evaluate.one_shot(
        network, evaluate.official_runs(image_size=size)
    )
    per_run = official_run_drawers(official)
    official_by_alphabet = {}
    for run in per_run:
        official_by_alphabet.setdefault(run["alphabet"], []).append(
            run["accuracy"]
        )
    return {
        "run_folder": str(
            folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
        ),
        "profile": results["profile"],
        "seed": results["seed"],
        # How the scored network was trained (its results.json's command).
        "run_command": results["command"],
        "results_json": {
            k: results[k]
            for k in ("one_shot_official_runs", "one_shot_paper_protocol")
        },
        "official_runs": {
            **interval(official.correct, 20),
            "by_alphabet": {
                a: float(np.mean(v)) for a, v in official_by_alphabet.items()
            },
        },
        "official_run_drawers": per_run,
        "paper_protocol": by_drawer_group(network, evaluation, results["seed"]),
        "official_drawers_fresh_characters": interval(
            fresh_characters(network, evaluation, per_run, results["seed"]), 20
        ),
        "command": "python -m bench.gap"
        + (f" {folder}" if folder != DEFAULT_RUN else ""),
        "date": common.now(),
    }


def main(argv: list[str]) -> int:
    parser = common.command_parser("bench.gap", __doc__, profile=False)
    parser.add_argument(
        "run_folder",
        nargs="?",
        type=pathlib.Path,
        default=DEFAULT_RUN,
        help="a run folder with best.keras (default: the fast recipe's seed 2015)",
    )
    folder = parser.parse_args(argv).run_folder
    if not (folder / "best.keras").exists():
        print(
            f"error: no trained network in {folder}; run `python -m bench.seeds` first",
            file=sys.stderr,
        )
        return 2
    figures = analyse(folder)
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n")

    def show(label, f):
        print(
            f"{label:<45} {100 * f['accuracy']:5.1f}%  [{100 * f['low']:.1f}, {100 * f['high']:.1f}]"
            f"  ({f['trials']} trials)"
        )

    show("official runs", figures["official_runs"])
    for name, f in figures["paper_protocol"].items():
        show(f"paper protocol, {name}", f)
    show(
        "official runs' drawers, fresh characters",
        figures["official_drawers_fresh_characters"],
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

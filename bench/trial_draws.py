"""How far one network's validation accuracy moves with the draw of its 320 tasks.

A run's validation one-shot accuracy is a mean over 320 tasks drawn from a seed. Two records
of one recipe and seed that drew their tasks differently (chapter 6's ablation row and seed
table, recorded by the code of two moments) can then disagree with no difference in the
network. ``python -m bench.trial_draws [RUN_FOLDER]`` scores one trained network (default:
chapter 6's fast run, ``python -m siamese_utils train --profile fast --seed 2015``) on
:data:`DRAWS` independent draws of the paper's 320 validation tasks and records the spread
in ``bench/results/trial-draws.json``, which chapter 6 reads.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

from bench import common
from siamese_utils import data, evaluate, model
from siamese_utils.paths import RECORDS, ROOT, run_folder
from siamese_utils.profiles import PAPER_VALIDATION_TRIALS

RESULTS = RECORDS / "trial-draws.json"
DEFAULT_RUN = run_folder("fast-seed2015")
DRAWS = 30


def measure(folder: pathlib.Path, draws: int = DRAWS) -> dict:
    """The network's validation accuracy on ``draws`` draws of the 320 tasks (seeds 0..)."""
    network = model.load_model(folder / "best.keras")
    validation = data.validation_split(int(network.inputs[0].shape[1]))
    accuracies = [
        evaluate.one_shot(
            network,
            evaluate.paper_protocol_trials(
                validation,
                20,
                PAPER_VALIDATION_TRIALS,
                seed,
                data.VALIDATION_ALPHABETS,
            ),
        ).accuracy
        for seed in range(draws)
    ]
    low, high = np.percentile(accuracies, [2.5, 97.5])
    return {
        "run_folder": str(folder.relative_to(ROOT))
        if folder.is_relative_to(ROOT)
        else str(folder),
        "draws": draws,
        "tasks": PAPER_VALIDATION_TRIALS,
        "accuracies": accuracies,
        "mean": float(np.mean(accuracies)),
        "sd": float(np.std(accuracies, ddof=1)),
        "central_95": [float(low), float(high)],
        # What the run itself recorded, on the draw that chose its best epoch.
        "run_validation": json.loads((folder / "results.json").read_text())[
            "validation_one_shot"
        ],
        "command": "python -m bench.trial_draws"
        + (f" {folder}" if folder != DEFAULT_RUN else ""),
        "machine": common.machine(),
        "date": common.now(),
    }


def main(argv=None) -> int:
    parser = common.command_parser("bench.trial_draws", __doc__, profile=False)
    parser.add_argument(
        "run_folder", nargs="?", type=pathlib.Path, default=DEFAULT_RUN
    )
    folder = parser.parse_args(argv).run_folder
    if not (folder / "best.keras").exists():
        parser.error(
            f"no trained network in {folder}; run `python -m siamese_utils train "
            "--profile fast --seed 2015` first"
        )
    figures = measure(folder)
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n")
    print(
        f"{figures['draws']} draws of {figures['tasks']} validation tasks: mean "
        f"{100 * figures['mean']:.1f}%, sd {100 * figures['sd']:.1f} points"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

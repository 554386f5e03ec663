"""Chapter 6's runs at the paper's scale, recorded on lent GPUs with Keras on JAX.

The paper trained its network on 105-pixel images; a CPU cannot, so these runs were made
on a GPU lent for minutes, and each keeps a folder of its own under ``bench/results``
(results and history side by side):

* ``paper-gpu``: the paper's recipe and network, ended by a time budget long before its
  early stopping would have (:func:`paper_gpu_table`, :func:`paper_gpu_course`);
* ``fast105-gpu/seed<S>``: the paper profile's network and images trained by the fast
  recipe, three seeds (``bash bench/gpu.sh``; :func:`fast_at_paper_scale_table`).

The second asks whether the fast recipe's distance from the paper's protocol figure is the
network's and the images' scale. It is set beside the fast profile's own runs of the same
seeds (``python -m bench.mnist``'s rows, the current code's) by the book's one rule,
:func:`siamese_utils.statistics.difference`.
"""

from __future__ import annotations

import json

import numpy as np
from IPython.display import Markdown

from siamese_utils import checkpoints, evaluate, records
from siamese_utils.display import markdown_table
from siamese_utils.protocol_levers import PROTOCOL, VALIDATION, fast_runs
from siamese_utils.report import SEED_FIGURES, percent
from siamese_utils.scale_curve import PAPER_PROTOCOL_SCORE
from siamese_utils.statistics import Estimate, difference

FAST_AT_PAPER_SCALE = records.RESULTS_FOLDER / "fast105-gpu"
# The paper's best verification accuracy: Table 1's largest set, with distortions.
PAPER_VERIFICATION = max(evaluate.PAPER_TABLE_1[max(evaluate.PAPER_TABLE_1)])


def paper_gpu_run() -> tuple[dict, dict]:
    """The recorded paper-scale GPU run: its ``results.json`` and its history."""
    folder = records.RESULTS_FOLDER / "paper-gpu"
    results = json.loads((folder / "results.json").read_text())
    return results, checkpoints.read_history(folder / "history.csv")


def paper_gpu_table(profile) -> Markdown:
    """The paper-scale GPU run beside the CPU recipe's seeds and the paper's figures."""
    gpu, _ = paper_gpu_run()
    keys = list(SEED_FIGURES)[1:]
    seeds = records.seed_rows(profile)
    rows = [
        [
            f"paper profile, seed {gpu['seed']}, {gpu['epochs_trained']} epochs "
            f"({gpu['hardware']['description']})",
            *(percent(gpu, k) for k in keys),
        ]
    ]
    if seeds:
        rows.append(
            _mean_row(
                f"{profile.name} profile, mean of {len(seeds)} seeds (above)",
                seeds,
                keys,
            )
        )
    rows.append(
        [
            evaluate.PAPER_TABLE_2_COLUMN + " and Table 1",
            "-",
            f"{PAPER_PROTOCOL_SCORE:.1f}",
            f"{PAPER_VERIFICATION:.1f}",
        ]
    )
    return markdown_table(
        ["run", "official runs (%)", "paper protocol (%)", "verification (%)"],
        rows,
        caption="The paper's recipe at its scale (the paper's verification: its "
        "best, 150,000 pairs x 8 distortions), recorded by `KERAS_BACKEND=jax "
        f"{gpu['command']}`",
    )


def paper_gpu_course() -> Markdown:
    """How the GPU run's validation accuracy moved, and whether its budget cut it short."""
    gpu, history = paper_gpu_run()
    one_shot = history["val_one_shot"]
    after_best = gpu["epochs_trained"] - gpu["best_epoch"]
    cut_short = (
        gpu["stopped_by"] == "time budget"
        and after_best < gpu["recipe"]["patience"]
    )
    text = (
        f"In {gpu['train_seconds'] / 60:.1f} minutes of training steps "
        f"({gpu['pairs_trained']:,} pairs, "
        f"{gpu['pairs_trained'] / gpu['train_seconds']:,.0f} a second) the "
        f"validation one-shot accuracy rose from {100 * one_shot[0]:.1f}% after "
        f"the first epoch to {100 * gpu['validation_one_shot']:.1f}% at epoch "
        f"{gpu['best_epoch']}"
    )
    if not cut_short:
        return Markdown(text + ".")
    return Markdown(
        text
        + f", and it had not stopped rising: the run ended {after_best} epochs "
        f"after its best, where the paper's early stopping waits "
        f"{gpu['recipe']['patience']}. Its test figures are those of a run cut short "
        "by its budget, not the recipe's final ones."
    )


def fast_at_paper_scale_runs(folder=None) -> dict[int, dict]:
    """seed -> the ``results.json`` of the fast recipe's run at the paper's scale."""
    folder = FAST_AT_PAPER_SCALE if folder is None else folder
    runs = (
        json.loads(path.read_text())
        for path in sorted(folder.glob("seed*/results.json"))
    )
    return {run["seed"]: run for run in runs}


def _mean_row(label: str, runs, keys) -> list[str]:
    """A table row of the runs' mean figures (``-`` for a figure they lack)."""
    return [
        label,
        *(
            f"{100 * np.mean([r[k] for r in runs]):.1f}"
            if all(k in r for r in runs)
            else "-"
            for k in keys
        ),
    ]


def fast_at_paper_scale_table(gpu_runs=None, fast=None) -> Markdown:
    """Each seed of the fast recipe at the paper's scale, their mean, the fast profile's
    mean on the same seeds, and the paper's figures."""
    gpu_runs = fast_at_paper_scale_runs() if gpu_runs is None else gpu_runs
    if not gpu_runs:
        return Markdown(
            "No run of the fast recipe at the paper's scale is recorded yet "
            "(`bash bench/gpu.sh`, on a GPU)."
        )
    fast = fast_runs() if fast is None else fast
    keys = list(SEED_FIGURES)
    rows = [
        [
            f"seed {seed}: {run['epochs_trained']} epochs, "
            f"{run['train_seconds'] / 60:.1f} min on {run['hardware']['description']}",
            *(percent(run, k) for k in keys),
        ]
        for seed, run in sorted(gpu_runs.items())
    ]
    rows.append(
        _mean_row(f"mean of {len(gpu_runs)} seeds", gpu_runs.values(), keys)
    )
    same_seeds = [fast[s] for s in gpu_runs if s in fast]
    if same_seeds:
        rows.append(
            _mean_row(
                f"fast profile (52 px, CPU), mean of the same {len(same_seeds)} seeds",
                same_seeds,
                keys,
            )
        )
    rows.append(
        [
            evaluate.PAPER_TABLE_2_COLUMN + " and Table 1",
            "-",
            "-",
            f"{PAPER_PROTOCOL_SCORE:.1f}",
            f"{PAPER_VERIFICATION:.1f}",
        ]
    )
    seed, run = min(gpu_runs.items())
    return markdown_table(
        ["run", *SEED_FIGURES.values()],
        rows,
        caption="The fast recipe training the paper's network on 105-pixel images on a "
        "GPU, beside the fast profile's narrower network on 52-pixel images and the "
        f"paper; recorded by `bash bench/gpu.sh` (seed {seed}'s command: "
        f"`KERAS_BACKEND=jax {run['command']}`)",
    )


def fast_at_paper_scale_findings(gpu_runs=None, fast=None) -> Markdown:
    """The paper's scale against the fast profile's on the same seeds, on validation and on
    the protocol, with the verdict the protocol's difference allows."""
    gpu_runs = fast_at_paper_scale_runs() if gpu_runs is None else gpu_runs
    fast = fast_runs() if fast is None else fast
    seeds = sorted(s for s in gpu_runs if s in fast)
    if not seeds:
        return Markdown("")
    # figure -> (the paper's scale, the fast profile), over the seeds both ran.
    compared = {
        figure: (
            Estimate.over_seeds({s: gpu_runs[s][figure] for s in seeds}),
            Estimate.over_seeds({s: fast[s][figure] for s in seeds}),
        )
        for figure in (VALIDATION, PROTOCOL)
    }
    parts = [
        f"On the {where}, the paper's network scored {100 * after.mean:.1f}% "
        f"against the fast profile's {100 * before.mean:.1f}% on the same seeds: "
        f"{difference(after, before).describe()}."
        for where, (after, before) in zip(
            ("validation tasks", "paper's protocol"), compared.values()
        )
    ]
    reached = compared[PROTOCOL][0].mean
    protocol = difference(*compared[PROTOCOL])
    if protocol.beyond_uncertainty:
        direction = "raised" if protocol.mean > 0 else "lowered"
        parts.append(
            f"The paper's scale {direction} the protocol score beyond its uncertainty."
        )
    else:
        epochs = max(gpu_runs[s]["epochs_trained"] for s in seeds)
        parts.append(
            f"Trained by the fast recipe for {epochs} epochs, the paper's network on the "
            "paper's image size did not move the protocol score beyond its uncertainty: "
            "at this length of training, the network's and the images' size do not "
            "explain the distance from the paper."
        )
    parts.append(
        f"Its protocol mean, {100 * reached:.1f}%, is {PAPER_PROTOCOL_SCORE - 100 * reached:.1f} "
        f"points below the paper's {PAPER_PROTOCOL_SCORE:.1f}%."
    )
    return Markdown(" ".join(parts))

"""Chapter 6's comparisons with the paper's Tables 1 and 3, rendered from the records.

* **Table 1**, the paper's verification design: a fixed training set of 30,000, 90,000 or
  150,000 pairs, without and with eight affine distortions of each pair
  (``python -m bench.table1``, ``bench/results/table1.jsonl``).
* **Table 3**, MNIST 10-way one-shot with a network trained on Omniglot and no fine-tuning:
  this page's network on its trials (:func:`mnist_table`, :func:`mnist_gain`), and the
  profile's reproduction over seeds (``python -m bench.mnist``,
  ``bench/results/mnist.jsonl``).

Table 2's comparisons are :mod:`siamese_utils.report`'s (the headline) and
:mod:`siamese_utils.scale_curve`'s (how the protocol score moves with scale). Every verdict
goes through the book's one rule, :func:`siamese_utils.statistics.difference`.
"""

from __future__ import annotations

from IPython.display import Markdown

from siamese_utils import evaluate, mnist, records
from siamese_utils.display import markdown_table
from siamese_utils.profiles import get_profile
from siamese_utils.statistics import Estimate, difference


def mean_and_half(estimate: Estimate | None, decimals: int = 1) -> str:
    """``"87.88 ± 0.62"``: an accuracy in % with half its 95% interval, the mean alone
    when it has no interval, ``"-"`` when nothing was recorded."""
    if estimate is None:
        return "-"
    if estimate.half_width is None:
        return f"{100 * estimate.mean:.{decimals}f}"
    return f"{100 * estimate.mean:.{decimals}f} ± {100 * estimate.half_width:.{decimals}f}"


TABLE_1_ROWS = records.RESULTS_FOLDER / "table1.jsonl"
TABLE_1_DISTORTIONS = {"none": 0, "pool": 1}  # column of PAPER_TABLE_1


def table1_design() -> Markdown:
    """The paper's Table 1 design at the fast size (``python -m bench.table1``): each set
    size without and with distortions, beside the paper's, and each effect's verdict."""
    cells = {}
    for row in records.read_rows(TABLE_1_ROWS):
        cells.setdefault((row["pairs"], row["distortions"]), {})[
            row["seed"]
        ] = row
    if not cells:
        return Markdown(
            "The paper's Table 1 design is not recorded here yet: `python -m "
            "bench.table1` trains its six cells."
        )

    def estimate(pairs, distortions):
        runs = cells.get((pairs, distortions), {})
        figures = {s: r["verification_accuracy"] for s, r in runs.items()}
        return Estimate.over(figures, "seed") if figures else None

    sizes = sorted(evaluate.PAPER_TABLE_1)
    rows = [
        [
            f"{n:,}",
            *(f"{v:.2f}" for v in evaluate.PAPER_TABLE_1[n]),
            *(
                mean_and_half(estimate(n, d), decimals=2)
                for d in TABLE_1_DISTORTIONS
            ),
        ]
        for n in sizes
    ]
    effects = []
    for n in sizes:
        plain, pooled = estimate(n, "none"), estimate(n, "pool")
        if plain and pooled:
            effects.append(
                f"distortions at {n:,} pairs: {difference(pooled, plain).describe()}"
            )
    small, large = estimate(sizes[0], "pool"), estimate(sizes[-1], "pool")
    if small and large:
        effects.append(
            f"{sizes[-1]:,} pairs against {sizes[0]:,}, with distortions: "
            f"{difference(large, small).describe()}"
        )
    seeds = sorted({s for runs in cells.values() for s in runs})
    some = next(iter(next(iter(cells.values())).values()))
    table = markdown_table(
        [
            "pairs in the training set",
            "paper, none (%)",
            "paper, x8 affine (%)",
            "book, none (%)",
            "book, 8 per image (%)",
        ],
        rows,
        caption="Verification accuracy on 10,000 test pairs after training on a fixed "
        f"set of pairs (the book: fast profile, the paper's recipe, {some['epochs']} "
        f"epochs of 100 steps of 128 pairs, seed{'s' if len(seeds) > 1 else ''} "
        f"{', '.join(map(str, seeds))}"
        + (
            "; mean ± half the 95% interval over seeds"
            if len(seeds) > 1
            else ""
        )
        + "; `python -m bench.table1`)",
    )
    return Markdown(
        table.data
        + "\n\nThe effects, by the book's one rule: "
        + "; ".join(effects)
        + "."
    )


def mnist_table(results: dict) -> Markdown:
    """10-way one-shot accuracy on MNIST (the paper's Table 3): ``results`` maps a row's
    label to its :class:`~siamese_utils.evaluate.OneShotResult` on the same trials."""
    rows = []
    for label, result in results.items():
        estimate = Estimate.over_tasks(result.correct, trials_per_task=1)
        low, high = estimate.interval
        rows.append(
            [
                label,
                f"{100 * estimate.mean:.1f}",
                f"{100 * low:.1f} to {100 * high:.1f}",
                "-",
            ]
        )
    rows += [
        [f"{name} (paper)", "-", "-", f"{value:.1f}"]
        for name, value in mnist.PAPER_TABLE_3.items()
    ]
    trials = len(next(iter(results.values())).correct)
    return markdown_table(
        [
            "model",
            "accuracy (%)",
            "95% interval",
            "Koch et al. (2015), Table 3",
        ],
        rows,
        caption=f"10-way one-shot accuracy on {trials} MNIST trials, no fine-tuning: "
        "this page's network and pixel nearest neighbours on the same trials, and "
        "the paper's Table 3 (its own trials, a reduced network on 35x35 images)",
    )


def mnist_gain(network_result, pixel_result) -> Markdown:
    """The network's gain over pixel nearest neighbours on the same MNIST trials."""
    change = difference(
        Estimate.over_tasks(network_result.correct, trials_per_task=1),
        Estimate.over_tasks(pixel_result.correct, trials_per_task=1),
    )
    paper = mnist.PAPER_TABLE_3
    return Markdown(
        "On the same trials, paired trial by trial, the network scores "
        f"{change.describe()} against pixel nearest neighbours. The paper's network "
        f"gained {paper['Convolutional Siamese Net'] - paper['1-Nearest Neighbor']:.1f} "
        "points over its own pixel baseline. The two pixel baselines differ "
        f"({100 * pixel_result.accuracy:.1f}% here, {paper['1-Nearest Neighbor']:.1f}% "
        "in the paper), so the two sets of trials are not alike, and each network is "
        "best read against the baseline beside it."
    )


MNIST_ROWS = records.RESULTS_FOLDER / "mnist.jsonl"


def mnist_rows(profile_name: str, image_size: int) -> dict:
    """The latest recorded row of each seed for ``profile_name``'s network on
    ``image_size`` images (``python -m bench.mnist``, with ``--reduced`` for 35x35)."""
    return {
        row["seed"]: row
        for row in records.read_rows(MNIST_ROWS)
        if row["profile"] == profile_name and row["image_size"] == image_size
    }


def _own_and_reduced(profile_name: str) -> tuple[int, dict, dict]:
    """The profile's image size, and its recorded MNIST rows on those images and on the
    reduced network's (:func:`mnist_rows`)."""
    size = get_profile(profile_name).image_size
    return (
        size,
        mnist_rows(profile_name, size),
        mnist_rows(profile_name, mnist.REDUCED_IMAGE_SIZE),
    )


def _over_seeds(rows: dict, figure: str) -> Estimate:
    """``figure``'s mean over the seeds of ``rows`` (seed -> row)."""
    return Estimate.over(
        {seed: rows[seed][figure] for seed in sorted(rows)}, "seed"
    )


def mnist_over_seeds(profile_name: str = "fast") -> Markdown:
    """Table 3 over seeds (``python -m bench.mnist``): ``profile_name``'s reproduction
    trained for each seed and pixel nearest neighbours, each seed on its own 400 trials,
    beside the paper's figures; the reduced network on 35x35 images where it is recorded
    (``--reduced``), beside the paper's reduced one; and the gains, paired by seed."""
    size, own, reduced = _own_and_reduced(profile_name)
    if not own:
        return Markdown(
            "Table 3 is not recorded over seeds yet: `python -m bench.mnist` trains a "
            "network for each seed and scores it."
        )
    network, pixels = _over_seeds(own, "network"), _over_seeds(own, "pixels")
    paper = mnist.PAPER_TABLE_3
    # The paper's network was the reduced one: its figure stands beside ours at its size.
    paper_network = f"{paper['Convolutional Siamese Net']:.1f}"
    table_rows = [
        [
            f"the {profile_name} recipe's network, {size}x{size} images",
            mean_and_half(network),
            "-" if reduced else paper_network,
        ],
        [
            f"1-nearest neighbour in pixels, {size}x{size} images",
            mean_and_half(pixels),
            f"{paper['1-Nearest Neighbor']:.1f}",
        ],
    ]
    gains = [
        "the network against pixel nearest neighbours on the same trials, "
        f"{difference(network, pixels).describe()}"
    ]
    if reduced:
        small, side = _over_seeds(reduced, "network"), mnist.REDUCED_IMAGE_SIZE
        table_rows.insert(
            1,
            [
                f"the same network and recipe on {side}x{side} images (reduced)",
                mean_and_half(small),
                paper_network,
            ],
        )
        gains += [
            f"the reduced network against pixel nearest neighbours at {side}x{side}, "
            f"{difference(small, _over_seeds(reduced, 'pixels')).describe()}",
            f"the reduced network against the {size}x{size} one, "
            f"{difference(small, network).describe()}",
        ]
    seeds = sorted(own)
    table = markdown_table(
        ["model", "book (%)", "Koch et al. (2015), Table 3 (%)"],
        table_rows,
        caption=f"10-way one-shot accuracy on MNIST, no fine-tuning: the {profile_name} "
        f"reproduction trained for seeds {', '.join(map(str, seeds))}, each network "
        f"on {own[seeds[0]]['trials']} trials drawn with its seed"
        + (
            "; mean ± half the 95% interval over seeds"
            if len(seeds) > 1
            else ""
        )
        + "; `python -m bench.mnist`"
        + (" (`--reduced` for the 35x35 row)" if reduced else "")
        + ". The paper's: a reduced network on 35x35 images, its own trials",
    )
    return Markdown(
        table.data
        + "\n\nThe differences, paired by seed: "
        + "; ".join(gains)
        + "."
    )


def reduced_on_omniglot(profile_name: str = "fast") -> Markdown:
    """What the reduced network (35x35 images) gives up on Omniglot: its validation and
    protocol scores and its training minutes against ``profile_name``'s own network,
    paired by the seeds both were trained with (``bench.mnist``'s rows)."""
    size, own, reduced = _own_and_reduced(profile_name)
    seeds = sorted(own.keys() & reduced.keys())
    if not seeds:
        return Markdown(
            "The reduced network is not recorded yet: `python -m bench.mnist --reduced` "
            "trains it for each seed."
        )
    own = {seed: own[seed] for seed in seeds}
    reduced = {seed: reduced[seed] for seed in seeds}
    side = mnist.REDUCED_IMAGE_SIZE
    parts = []
    for figure, name in (
        ("validation_one_shot", "the validation tasks"),
        ("one_shot_paper_protocol", "the paper's protocol"),
    ):
        small, large = _over_seeds(reduced, figure), _over_seeds(own, figure)
        parts.append(
            f"on {name} it scores {100 * small.mean:.1f}% against "
            f"{100 * large.mean:.1f}%, {difference(small, large).describe()}"
        )
    minutes = [
        _over_seeds(rows, "train_seconds").mean / 60 for rows in (reduced, own)
    ]
    return Markdown(
        f"On Omniglot, the {side}x{side} network trained for seeds "
        f"{', '.join(map(str, seeds))} against the {size}x{size} one of the same seeds: "
        + "; ".join(parts)
        + f". It trained for {minutes[0]:.1f} minutes a seed on average, against "
        f"{minutes[1]:.1f} (each as its own run recorded it; machines of one kind here "
        "differ in speed, so the ratio is the reading, not the minutes)."
    )

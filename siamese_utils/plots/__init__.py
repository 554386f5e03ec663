"""The book's figures, one import for the chapters: ``plots.training_curves(...)``.

Importing it applies the book's matplotlib style (:mod:`~siamese_utils.plots.style`). The
figures live by what they show: :mod:`~siamese_utils.plots.images` (characters, pairs,
filters, feature maps, trials), :mod:`~siamese_utils.plots.charts` (accuracies, layer costs,
embeddings, distances, score matrices), :mod:`~siamese_utils.plots.training` (schedules and
training curves) and :mod:`~siamese_utils.plots.diagram` (the whole network).
"""

from siamese_utils.plots.charts import (
    accuracy_bars,
    activation_profile,
    agreement_bars,
    compute_bars,
    distance_histograms,
    embedding_scatter,
    negative_weights,
    parameter_bars,
    scale_curve,
    score_matrix,
)
from siamese_utils.plots.diagram import PART_COLOURS, network_diagram
from siamese_utils.plots.images import (
    character_grid,
    distortion_grid,
    feature_map_grid,
    filter_grid,
    maps_by_depth,
    neighbour_grid,
    pair_grid,
    response_gallery,
    trial_gallery,
    whole_trial,
)
from siamese_utils.plots.style import BOOK_STYLE, SMALLEST_FONT, use_book_style
from siamese_utils.plots.training import (
    schedule_plot,
    step_curves,
    training_curves,
)

__all__ = [
    "BOOK_STYLE",
    "PART_COLOURS",
    "SMALLEST_FONT",
    "accuracy_bars",
    "activation_profile",
    "agreement_bars",
    "character_grid",
    "compute_bars",
    "distance_histograms",
    "distortion_grid",
    "embedding_scatter",
    "feature_map_grid",
    "filter_grid",
    "maps_by_depth",
    "negative_weights",
    "neighbour_grid",
    "network_diagram",
    "pair_grid",
    "parameter_bars",
    "response_gallery",
    "schedule_plot",
    "scale_curve",
    "score_matrix",
    "step_curves",
    "trial_gallery",
    "training_curves",
    "use_book_style",
    "whole_trial",
]

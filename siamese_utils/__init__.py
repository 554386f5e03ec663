"""Shared helpers for the book *Siamese Neural Networks for One-shot Image Recognition*.

Every chapter imports its building blocks from here. The modules, in the order the data
flows:

* :mod:`siamese_utils.paths` - where the records and the runs live, anchored at the repository's root;
* :mod:`siamese_utils.profiles` - the one switch (``SIAMESE_PROFILE``) that sizes every run;
* :mod:`siamese_utils.seeding` - the one seeding helper;
* :mod:`siamese_utils.drawers` - who drew each image, restored from a shipped table;
* :mod:`siamese_utils.data` - Omniglot from tensorflow-datasets (or an exported file) and the paper's split;
* :mod:`siamese_utils.sampling` - pairs and episodes drawn from a split, as indices;
* :mod:`siamese_utils.distortions` - the paper's affine distortions;
* :mod:`siamese_utils.pipeline` - every ``tf.data`` pipeline: sampled indices to image batches;
* :mod:`siamese_utils.numpy_pipeline` - the same batches as NumPy arrays, for backends without TensorFlow;
* :mod:`siamese_utils.network` - the network of Koch et al. (2015), made from the chapters' ``# @save`` cells;
* :mod:`siamese_utils.network_checks` - the network builders' argument checks;
* :mod:`siamese_utils.model` - the network's builders, its score before the sigmoid, saving and loading;
* :mod:`siamese_utils.learning` - the losses and the paper's schedule, made from the chapters' cells;
* :mod:`siamese_utils.optimizers` - the paper's SGD with a rate and momentum per layer;
* :mod:`siamese_utils.embeddings` - embedding images once, scoring pairs of embeddings;
* :mod:`siamese_utils.trainers` - what Keras fits (the score network, the all-pairs trainer) and the losses;
* :mod:`siamese_utils.samplers` - what a training step is made of, pairs or episodes, as objects;
* :mod:`siamese_utils.train` - the chapters' training runs, their callbacks and the threshold's calibration;
* :mod:`siamese_utils.evaluate` - N-way one-shot tasks and the official 20 runs;
* :mod:`siamese_utils.mnist` - the paper's Table 3: 10-way one-shot trials on MNIST digits;
* :mod:`siamese_utils.test_time` - one-shot scores averaged over distorted views or over an ensemble of networks;
* :mod:`siamese_utils.recipe` - how each profile trains the reproduction;
* :mod:`siamese_utils.epoch_data` - each epoch's batches of indices and a run's pool of fixed distortions;
* :mod:`siamese_utils.checkpoints` - run folders, checkpoints and resuming;
* :mod:`siamese_utils.run_data` - a reproduction's training, validation and test data, and its test scoring;
* :mod:`siamese_utils.run_callbacks` - a reproduction's early stopping, checkpoints and time budget;
* :mod:`siamese_utils.run_results` - what a reproduction measured, as ``results.json`` holds it;
* :mod:`siamese_utils.reproduce` - the whole reproduction, from training to ``results.json``;
* :mod:`siamese_utils.statistics` - the book's one rule for whether a difference exceeds its uncertainty;
* :mod:`siamese_utils.experiment_results` - an experiment's arms, their results over seeds, its table and verdict;
* :mod:`siamese_utils.arms` - the arms of each chapter's experiment;
* :mod:`siamese_utils.experiment_records` - the experiments as ``bench.experiments`` recorded them;
* :mod:`siamese_utils.experiments` - a chapter's arms trained alike over seeds, scored on validation;
* :mod:`siamese_utils.records` - reading back the rows that ``python -m bench`` recorded;
* :mod:`siamese_utils.report` - chapter 6's tables and verdicts, rendered from those records;
* :mod:`siamese_utils.drawer_gap` - chapter 6's gap section: the official runs, the protocol and the drawers;
* :mod:`siamese_utils.paper_tables` - chapter 6's comparisons with the paper's Tables 1 (verification) and 3 (MNIST);
* :mod:`siamese_utils.scale_curve` - chapter 6's scale curve: the protocol score against image size and training time;
* :mod:`siamese_utils.protocol_levers` - chapter 6's other levers on the protocol, each against the fast recipe on the same seeds;
* :mod:`siamese_utils.paper_scale` - chapter 6's GPU runs at the paper's scale: its recipe cut short, and the fast recipe on its network;
* :mod:`siamese_utils.choices` - how the fast recipe was chosen: the ablation's and the seeds' verdicts;
* :mod:`siamese_utils.distributed` - data-parallel training with ``tf.distribute``;
* :mod:`siamese_utils.anatomy` - layer tables, compute counts, activations, gradients;
* :mod:`siamese_utils.browser_demo` - the trained twin exported for onnxruntime-web, with what the demo page loads;
* :mod:`siamese_utils.plots` - the book's figures and matplotlib defaults (a package: images, charts, training, diagram);
* :mod:`siamese_utils.display` - source listings, result tables, a chapter's cost and downloads;
* :mod:`siamese_utils.cli` - the command lines (``python -m siamese_utils train|throughput|export``).

Importing the package registers its custom Keras objects (:class:`~siamese_utils.model.L1Distance`,
:class:`~siamese_utils.optimizers.LayerwiseSGD`), so ``keras.saving.load_model`` reads the
book's ``.keras`` files after ``import siamese_utils``.
"""

import logging
import os

# Keras 3 picks its backend when first imported; the book's is TensorFlow. A backend the
# reader chose (KERAS_BACKEND=jax, as on the GPU machine) wins.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's Python-side notices (tf.function retracing) are not content. Inside a
# notebook TensorFlow resets its logger to INFO on first use, so seeding.set_seed, which
# every chapter calls first, lowers it again there. Errors still show.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

from siamese_utils import model, optimizers  # noqa: E402  (registers the custom objects)

__all__ = ["model", "optimizers"]
__version__ = "0.1.0"

"""Shared helpers for the book *Siamese Neural Networks for One-shot Image Recognition*.

Every chapter imports its building blocks from here, in the order the data flows:

* :mod:`siamese_utils.profiles` - the one switch (``SIAMESE_PROFILE``) that sizes every run;
* :mod:`siamese_utils.seeding` - the one seeding helper;
* :mod:`siamese_utils.drawers` - who drew each image, restored from a shipped table;
* :mod:`siamese_utils.data` - Omniglot from tensorflow-datasets, its alphabet index, pairs;
* :mod:`siamese_utils.model` - the network of Koch et al. (2015) from small named parts;
* :mod:`siamese_utils.train` - compiling and fitting the verification network;
* :mod:`siamese_utils.evaluate` - N-way one-shot tasks and the official 20 runs;
* :mod:`siamese_utils.anatomy` - layer tables, compute counts, activations, gradients;
* :mod:`siamese_utils.plots` - the book's figures and matplotlib defaults;
* :mod:`siamese_utils.display` - source listings and result tables in notebooks.
"""

import logging
import os

# TensorFlow's C++ start-up chatter ("oneDNN custom operations are on", CPU feature
# guards) would otherwise end up in every rendered page. Set before TensorFlow is
# imported anywhere; a value the reader set explicitly wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's Python-side notices (tf.function retracing) are not content either. This
# covers scripts; inside a notebook TensorFlow resets its logger to INFO on first use, so
# seeding.set_seed, which every chapter calls first, lowers it again there.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

__version__ = "0.1.0"

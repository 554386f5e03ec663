"""``python -m siamese_utils``: the package's command lines (:mod:`siamese_utils.cli`)."""

from siamese_utils.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmarks of the book's code: each figure is a ratio of two things measured in one run.

Run them all with ``python -m bench`` (see README.md, "Performance").
"""

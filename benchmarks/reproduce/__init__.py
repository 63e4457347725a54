"""Reproductions of the papers' tables at stated budgets (``python -m benchmarks.reproduce.table1``)."""

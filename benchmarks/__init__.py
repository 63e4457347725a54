"""Benchmarks for hebbjax (CPU baselines and throughput measurements)."""

"""benchmarks/time_to_quality.py: what a killed run leaves behind."""

from benchmarks import time_to_quality as ttq


def test_a_run_killed_before_its_clock_starts_over(tmp_path):
    """A checkpoint without clock.json (killed between the two writes) cannot say how
    long it trained: the run starts over instead of failing on resume."""
    run = tmp_path / "exp"
    assert not ttq.can_resume(run)  # nothing there
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"")
    (run / "metrics.jsonl").write_text("{}\n")
    assert not ttq.can_resume(run) and not run.exists()
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"")
    (run / "clock.json").write_text('{"0": [0.0, 0.0]}')
    assert ttq.can_resume(run) and run.exists()

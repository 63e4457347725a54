"""benchmarks/gpu.py: a part that fails is recorded and the others still run and are saved
(a short GPU lease must not lose what ran), and the report reads every part."""

import json

from benchmarks import gpu


def test_a_failing_part_is_recorded_and_the_others_still_saved(tmp_path, monkeypatch):
    def broken(populations, repeats):
        raise RuntimeError("Array has been deleted")

    agreement = dict(lifetimes=4, same_actions=True, same_returns=True,
                     max_abs_output_difference=0.0, max_abs_hidden_difference=0.0)  # fmt: skip
    curve = [dict(generation=g, minutes=g / 100, score=-1 + g / 100, score_stderr=0.03)
             for g in range(0, 140, 20)]  # fmt: skip
    train = dict(command="hebbjax train ...", minutes=0.5, generations=140, lifetimes=8960,
                 seconds_per_generation=0.04, compile_s=9.0, curve=curve, test_score=-0.5,
                 test_score_stderr=0.02, test_goal_rate=0.6)  # fmt: skip
    monkeypatch.setattr(gpu, "throughput", broken)
    monkeypatch.setattr(gpu, "agreement", lambda n: agreement)
    monkeypatch.setattr(gpu, "train_curve", lambda *a: train)
    assert gpu.main(["--quick", "--out", str(tmp_path), "--train-minutes", "0.5"]) == 0
    saved = json.loads((tmp_path / "gpu-quick.json").read_text())
    assert saved["throughput"] == {"error": "RuntimeError: Array has been deleted"}
    assert saved["agreement"] == agreement and saved["train"]["test_score"] == -0.5
    text = (tmp_path / "gpu-quick.md").read_text()
    assert "throughput: failed (RuntimeError: Array has been deleted)" in text
    assert "same actions True" in text and "**-0.500 +- 0.020**" in text
    assert text.count("| 1.2 | 120 | +0.200 +- 0.030 |") == 1  # the last row once

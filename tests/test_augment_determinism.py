"""Same seed → the same augmented set in a new process, whatever Python's hash seed (set
iteration order of strings changes with it; TextAttack and nlpaug both iterate sets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import hashlib, json, sys
from alexbench.data.splits import load_dataset
from alexbench.interfaces import Context
from alexbench.plugin.host import PluginHost
from alexbench.config.tasks import load_task
task = load_task(sys.argv[1])
train = load_dataset(task).train
sample = [p for p in train if p.label == "1"][:4] + [p for p in train if p.label == "0"][:4]
host = PluginHost()
out = {}
for name, params in [("alex_textattack", {"n": 2, "balance": "none"}), ("eda", {"n": 2}), ("nlpaug_spelling", {"n": 2}),
                     ("nlpaug_synonym", {"n": 2}), ("nlpaug_ocr", {"n": 2})]:
    rows = host.build("augmenter", name, {**params, "grow": "1"}).augment(sample, Context(task=task, seed=5))
    out[name] = [(r.id, r.text, r.label) for r in rows]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_identical_across_processes_and_hash_seeds() -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")],
                              capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout.strip().splitlines()[-1])
    assert outputs[0] == outputs[1]
    for name in ("alex_textattack", "eda", "nlpaug_spelling", "nlpaug_synonym", "nlpaug_ocr"):
        assert f"#{name}-2" in outputs[0], name

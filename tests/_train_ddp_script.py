"""Run by test_train_distributed.py under `accelerate launch --num_processes 2 --cpu`:
trains the tiny preset for a few steps and writes, per process, a digest of its weights
and the item ids it consumed at each step."""

import hashlib
import json
import sys
from pathlib import Path

from ramotion.train import resolve_config
from ramotion.train.trainer import Trainer

data, run, cache, report = sys.argv[1:5]
cfg = resolve_config("tiny", ["steps=3", "val_every=3", "ckpt_every=3", "ema_decay=null"])
trainer = Trainer(cfg, data, run, text_cache=cache, progress=False)
seen: list[list[str]] = []
inputs = trainer._inputs


def recording(batch):
    seen.append(list(batch["id"]))
    return inputs(batch)


trainer._inputs = recording  # record what this process trains on (validation comes after each step's batch)
result = trainer.fit()
digest = hashlib.sha256()
for k, v in sorted(trainer.model.state_dict().items()):
    digest.update(k.encode())
    digest.update(v.detach().contiguous().numpy().tobytes())
rank = trainer.accelerator.process_index
out = {"rank": rank, "world": trainer.accelerator.num_processes, "digest": digest.hexdigest(), "seen": seen, "step": result.step}
Path(report, f"rank{rank}.json").write_text(json.dumps(out))

"""Run by test_losses_distributed.py under `accelerate launch --multi_gpu --num_processes 2` on
CPU (gloo): each process takes its half of one fixed global batch, computes the objective
through DDP (as the trainer does) for a few loss configs, and saves per config its loss terms
and the parameter gradients after DDP's averaging to REPORT/rank{r}.pt."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _losses_ddp_common import CONFIGS, global_batch, tiny_model  # noqa: E402
from accelerate import Accelerator  # noqa: E402

from ramotion.diffusion import GaussianDiffusion  # noqa: E402
from ramotion.train.trainer import _Objective  # noqa: E402

report = Path(sys.argv[1])
acc = Accelerator(cpu=True)  # several processes without a GPU: gloo
rank, world = acc.process_index, acc.num_processes
model = tiny_model()
objective = acc.prepare(_Objective(model, GaussianDiffusion(50), CONFIGS["ours"]))
motion, mask, text, text_mask = global_batch()
share = len(motion) // world
rows = slice(rank * share, (rank + 1) * share)  # this process's slice of the global batch
out: dict[str, dict] = {"world": world}
for name, cfg in CONFIGS.items():
    acc.unwrap_model(objective).loss = cfg
    model.zero_grad(set_to_none=True)
    total, terms = objective(motion[rows], mask[rows], text[rows], text_mask[rows])
    acc.backward(total)  # DDP averages the gradients over the processes here
    out[name] = {
        "total": total.detach(),
        "terms": {k: v.detach() for k, v in terms.items()},
        "grads": {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None},
    }
torch.save(out, report / f"rank{rank}.pt")
acc.wait_for_everyone()

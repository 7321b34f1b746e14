"""A minimal training loop over simgen data: the DataLoader wiring, on CPU, in a few seconds.

    python examples/finetune_loop.py [DATASET] [--steps 12] [--workers 2]

Without DATASET a small dataset (8 videos, 64x64, 16 frames) is generated in a temporary folder
first. The "model" is a tiny 3D CNN that regresses, from an 8-frame clip, where the objects are
at the clip's last frame (mean projected centre of mass, ``centroid_2d``, in [0, 1] image units):
a toy task, but it uses what a real fine-tuning job uses -- clip sampling (frames, stride,
random start, resize + random crop with the ground truth transformed along), ``columns=`` so that
masks and depth are never read, float video in [0, 1], ``collate`` padding of variable object
counts with ``object_valid``, ``num_workers=2`` and ``set_epoch`` for reproducible shuffling.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import torch
from torch import nn

from simgen.torch import SimgenTorchDataset, collate


def make_dataset(out: str) -> None:
    env = dict(os.environ, PYOPENGL_PLATFORM="egl", LP_NUM_THREADS="0")
    cmd = [sys.executable, "-m", "simgen", "n=8", "shard_size=4", "workers=1", "render.width=64",
           "render.height=64", "render.frames=16", f"out={out}", "runner.progress=false"]
    print("generating a small dataset:", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True, env=env)


class TinyVideoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(3, 8, kernel_size=3, stride=(1, 2, 2), padding=1), nn.ReLU(),
            nn.Conv3d(8, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool3d(1),
        )
        self.head = nn.Linear(16, 2)

    def forward(self, video: torch.Tensor) -> torch.Tensor:  # video [B, T, 3, H, W] in [0, 1]
        x = video.permute(0, 2, 1, 3, 4)  # Conv3d wants [B, C, T, H, W]
        return self.head(self.features(x).flatten(1))


def target(batch: dict) -> torch.Tensor:
    """Mean centre of the real objects at the last clip frame, as a fraction of width/height."""
    uv = batch["centroid_2d"][:, -1]  # [B, Nmax, 2] pixels of the resized, cropped frame
    valid = batch["object_valid"].unsqueeze(-1).float()  # [B, Nmax, 1]; padding is 0
    mean = (uv * valid).sum(1) / valid.sum(1).clamp(min=1)
    size = torch.tensor([batch["video"].shape[-1], batch["video"].shape[-2]], dtype=mean.dtype)
    return mean / size


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Tiny CPU training loop over a simgen dataset.")
    p.add_argument("dataset", nargs="?", help="dataset folder (generated if omitted)")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=4)
    args = p.parse_args(argv)

    torch.manual_seed(0)
    tmp = None
    path = args.dataset
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="simgen-finetune-")
        path = os.path.join(tmp.name, "freefall")
        make_dataset(path)

    from simgen.data import open_dataset

    num_frames = min(open_dataset(path).metadata_table(("num_frames",)).column(0).to_pylist())  # footers + 1 column
    frames = min(8, num_frames)
    stride = max(1, min(2, (num_frames - 1) // max(1, frames - 1)))
    ds = SimgenTorchDataset(
        path,
        columns=["video", "centroid_2d", "caption"],  # no masks or depth are read
        frames=frames, stride=stride, start="random",  # e.g. 8 frames spanning 15, random start per (seed, epoch, index)
        size=56, crop="random",  # scale to cover 56x56, random crop; centroid_2d follows
        video_dtype=torch.float32,  # [T, 3, H, W] in [0, 1]
        seed=0,
    )
    loader = torch.utils.data.DataLoader(
        ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, collate_fn=collate,
        drop_last=True, generator=torch.Generator().manual_seed(0),
    )
    model = TinyVideoNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    step, epoch = 0, 0
    while step < args.steps:
        ds.set_epoch(epoch)  # new clip starts and crops each epoch, reproducibly
        for batch in loader:
            pred = model(batch["video"])
            loss = nn.functional.mse_loss(pred, target(batch))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            print(f"epoch {epoch} step {step:3d}  loss {loss.item():.4f}  video {tuple(batch['video'].shape)} "
                  f"objects/sample {batch['object_valid'].sum(1).tolist()}  e.g. {batch['caption'][0][:50]!r}")
            if step >= args.steps:
                break
        epoch += 1
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

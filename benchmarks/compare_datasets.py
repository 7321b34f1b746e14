"""Compare two datasets written with the same config on different machines or renderers (a GPU node
against llvmpipe, say): which samples have identical trajectories, and, for those, how far the
masks, depth and decoded video are apart.

    python benchmarks/compare_datasets.py DATASET_A DATASET_B

Rendering is compared only on samples whose stored positions are bit-identical: physics is
deterministic on one machine and software stack, but a chaotic contact sequence can take another
path on another CPU (other SIMD paths in the engine, other numpy), and then the pictures differ for
that reason alone. Prints, per sample, the largest position difference; then the masks' differing
pixels, the depth difference on object pixels whose masks agree and on the background (relative,
99.99th percentile), and the PSNR of the decoded videos.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args(argv)
    from simgen.codecs import psnr
    from simgen.data import open_dataset

    A, B = open_dataset(args.a), open_dataset(args.b)
    ids_a = [A[i]["sample_id"] for i in range(len(A))]
    ids_b = {B[i]["sample_id"]: i for i in range(len(B))}
    mask_px = mask_diff = 0
    obj_depth, bg_rel, psnrs, same = [], [], [], []
    for i, sid in enumerate(ids_a):
        if sid not in ids_b:
            continue
        x, y = A[i], B[ids_b[sid]]
        dp = float(np.abs(np.asarray(x["positions"], np.float64) - np.asarray(y["positions"], np.float64)).max())
        print(f"{sid}: positions differ by at most {dp * 1000:.3f} mm")
        if dp > 0:
            continue
        same.append(sid)
        m1, m2 = x["masks"], y["masks"]
        mask_px += m1.size
        mask_diff += int((m1 != m2).sum())
        d1, d2 = x["depth"].astype(np.float64), y["depth"].astype(np.float64)
        obj = (m1 == m2) & (m1 > 0)
        if obj.any():
            obj_depth.append(float(np.abs(d1 - d2)[obj].max()))
        bg = (m1 == 0) & (m2 == 0) & (d1 > 0) & (d2 > 0)
        if bg.any():
            bg_rel.append(float(np.quantile(np.abs(d1 - d2)[bg] / d1[bg], 0.9999)))
        psnrs.append(psnr(x["video"], y["video"]))
    print(f"\n{len(same)} of {len(ids_a)} samples have bit-identical trajectories")
    if not same:
        return 1
    print(f"masks: {mask_diff} of {mask_px} pixels differ ({mask_diff / mask_px:.2e})")
    if obj_depth:
        print(f"depth on object pixels: at most {max(obj_depth) * 1000:.2f} mm apart")
    if bg_rel:
        print(f"depth on the background: 99.99th percentile relative difference {max(bg_rel):.2e} "
              f"(float16 spacing is 4.9e-4 relative)")
    print(f"decoded video PSNR: min {min(psnrs):.1f} dB, mean {np.mean(psnrs):.1f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m simgen.eval GT PRED [--masks DIR] [--out DIR] [--variance] ...``: score a video model's
predictions against a simgen dataset (PISA, Physics-IQ and 2-D track metrics, and a physics verifier).

Errors a user can fix (a missing or unreadable file, a bad option) print one paragraph naming the
file and what is allowed, and exit with status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import os
import sys

from simgen.errors import UserError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m simgen.eval",
        description="Score predicted videos against simgen ground truth: PISA (pisa_l2, pisa_chamfer, pisa_iou), "
                    "Physics-IQ (physiq_*), 2-D tracks (centroid/velocity/acceleration RMSE) and a physics "
                    "verifier (g_fit, restitution_fit, slide_accel_fit beside the GT values).")
    p.add_argument("gt", metavar="GT", help="simgen dataset: folder, URI or one shard")
    p.add_argument("pred", metavar="PRED", help="folder of <sample_id>.mp4, or a Parquet file/folder with "
                                                "sample_id and video (MP4 bytes) columns")
    p.add_argument("--masks", metavar="DIR",
                   help="<sample_id>.npz with 'mask' bool [T, N, H, W] (objects in GT order, one per predicted "
                        "frame): used instead of simgen's segmentation")
    p.add_argument("--out", metavar="DIR", help="output folder [PRED/eval]")
    p.add_argument("--variance", action="store_true",
                   help="also score a re-simulated take of each GT sample (1 mm start perturbation): the floor a "
                        "perfect simulator scores; adds <metric>_floor and <metric>_norm columns")
    p.add_argument("--pred-fps", type=float, metavar="FPS", help="frame rate of the predictions (default: each "
                                                                 "video's container rate, or the fps column)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes [1]; 0 = all cores")
    p.add_argument("--limit", type=int, metavar="N", help="score only the first N GT samples")
    p.add_argument("--plots", type=int, default=16, metavar="N",
                   help="track plots for the first N scored samples [16]; -1: no plots at all")
    p.add_argument("--timing", action="store_true", help="print CPU seconds per sample and per stage")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table on stdout")
    return p


def _check(args) -> None:
    if args.pred_fps is not None and not args.pred_fps > 0:
        raise UserError(f"--pred-fps {args.pred_fps} must be a positive frame rate.")
    if args.workers < 0:
        raise UserError(f"--workers {args.workers} must be >= 0 (0 = all cores).")
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit} must be >= 1.")
    if args.masks and not os.path.isdir(args.masks):
        raise UserError(f"--masks {args.masks!r} is not a folder; give the folder of <sample_id>.npz mask files.")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    try:
        _check(args)
        from tqdm import tqdm

        from simgen.eval.evaluate import Options, evaluate
        from simgen.eval.report import markdown, write

        workers = args.workers or os.cpu_count() or 1
        opts = Options(masks_dir=args.masks, variance=args.variance, pred_fps=args.pred_fps)
        bar = None if args.quiet else tqdm(desc="simgen.eval", unit="sample", file=sys.stderr)
        try:
            ev = evaluate(args.gt, args.pred, opts, workers=workers, limit=args.limit, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        out = args.out or os.path.join(args.pred if os.path.isdir(args.pred) else os.path.dirname(args.pred) or ".",
                                       "eval")
        summary = write(ev, out, args.variance, plots=args.plots)
    except UserError as exc:
        print(f"simgen.eval: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(markdown(summary, args.variance))
    n = summary["scored"]
    print(f"simgen.eval: scored {n} of {summary['samples']} sample(s), {len(summary['missing'])} missing -> {out}")
    if args.timing:
        print(_timing_line(ev, n, workers))
    return 0


def _timing_line(ev, n: int, workers: int) -> str:
    from collections import defaultdict

    stages = defaultdict(float)
    for r in ev.results:
        for k, v in r.cpu.items():
            stages[k] += v
    per = ", ".join(f"{k} {v / max(n, 1):.3f}" for k, v in stages.items())
    return (f"simgen.eval: timing: {ev.cpu_s / max(n, 1):.3f} CPU-s per scored sample ({per}); "
            f"wall {ev.wall_s:.1f} s for {n} sample(s) on {workers} worker(s)")

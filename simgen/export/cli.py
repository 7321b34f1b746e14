"""``python -m simgen.export DATASET [DATASET ...] --format FORMAT --out DIR [options]``.

Bad input (unknown format, missing dataset, a flag the format does not take, a foreign non-empty
output folder) prints one line ``simgen.export: error: ...`` and exits with status 2; nothing is
written.
"""

from __future__ import annotations

import argparse
import sys

from simgen.errors import UserError

EPILOG = """formats:
  mp4           <sample_id>.mp4 + <sample_id>.json ground truth
  cosmos        videos/<id>.mp4 + metas/<id>.txt (Cosmos-Predict2.5 local video dataset); --min-frames
  diffsynth     metadata.csv video,prompt[,input_image] + videos/ (DiffSynth-Studio, Wan); --frames, --first-frame
  musubi        metadata.jsonl {video_path, caption} + videos/ (musubi-tuner); --frames
  finetrainers  prompt.txt + videos.txt + videos/ (finetrainers); --frames
  pisa          <id>/%05d.jpg, mask.npz, clip_info.json + pisa_eval.jsonl (PISA evaluation); --pred-fps

Videos are remuxed from the dataset's H.264 stream without re-encoding (the decoded frames are the
dataset's exactly). A rerun into the same folder resumes; see README "Exporting".

examples:
  python -m simgen.export datasets/freefall --format diffsynth --out exports/wan --first-frame
  python -m simgen.export datasets/freefall --format musubi --out exports/musubi --frames 4k+1
  python -m simgen.export datasets/freefall --format pisa --out exports/pisa --split ood
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse's default prints the usage too)
        print(f"simgen.export: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    from simgen.export.cosmos import DEFAULT_MIN_FRAMES
    from simgen.export.formats import format_names

    p = _Parser(prog="python -m simgen.export", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Write simgen datasets in the folder layouts of fine-tuning and evaluation tools.",
                epilog=EPILOG)
    p.add_argument("datasets", nargs="+", metavar="DATASET",
                   help="dataset folder(s) or URI(s) written by python -m simgen")
    p.add_argument("--format", required=True, choices=format_names(), metavar="FORMAT",
                   help="one of: " + ", ".join(format_names()))
    p.add_argument("--out", required=True, help="output folder or URI (file://, s3://, gs://)")
    p.add_argument("--split", choices=["id", "ood"], help="export only this split")
    p.add_argument("--scene", nargs="+", metavar="SCENE", help="export only these scene families")
    p.add_argument("--workers", type=int, default=0, help="worker processes, 0 = all cores [0]")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder that is not a previous export of this dataset/format/options")
    p.add_argument("--frames", default="all", metavar="all|4k+1",
                   help="diffsynth/musubi/finetrainers: keep the first largest-4k+1 frames of each clip [all]")
    p.add_argument("--first-frame", action="store_true", help="diffsynth: also write frame 0 as images/<id>.png")
    p.add_argument("--min-frames", type=int, default=None,
                   help="cosmos: warn when clips are not longer than this (the training num_frames) "
                        f"[{DEFAULT_MIN_FRAMES}]")
    p.add_argument("--pred-fps", type=float, default=None, help="pisa: fps of your predicted videos [the dataset's]")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        from simgen.export.base import Options
        from simgen.export.run import export

        if args.workers < 0:
            raise UserError(f"--workers {args.workers} is not allowed: give 0 (all cores) or a positive number.")
        if args.min_frames is not None and args.min_frames < 1:
            raise UserError(f"--min-frames {args.min_frames} is not allowed: give a positive number of frames.")
        if args.pred_fps is not None and not args.pred_fps > 0:
            raise UserError(f"--pred-fps {args.pred_fps} is not allowed: give a positive frame rate.")
        options = Options(frames=args.frames, first_frame=args.first_frame, min_frames=args.min_frames,
                          pred_fps=args.pred_fps)
        export(args.datasets, args.format, args.out, options=options, split=args.split, scenes=args.scene,
               workers=args.workers, force=args.force, progress=not args.no_progress,
               log=lambda m: print(m, file=sys.stderr))
        return 0
    except UserError as exc:
        print(f"simgen.export: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simgen.export: interrupted; finished files are kept, rerun the same command to resume.", file=sys.stderr)
        return 130

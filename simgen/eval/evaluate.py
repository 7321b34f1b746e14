"""Scoring: one GT sample against its prediction (and, with ``variance``, against a second simulated take).

:class:`Scorer` holds what a process needs (the GT reader, the predictions, renderers for plates and
variance takes); :func:`evaluate` runs it over every GT sample, in this process or in worker processes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from simgen.codecs import decode_video, encode_video
from simgen.errors import UserError
from simgen.eval.groundtruth import GroundTruth
from simgen.eval.metrics_physiq import PHYSIQ_METRICS, physiq_metrics
from simgen.eval.metrics_pisa import PISA_METRICS, pisa_metrics
from simgen.eval.plate import Renderers, plate_error, render_plate
from simgen.eval.predictions import load_masks, open_predictions, pair_frames, resize_masks, resize_video
from simgen.eval.segment import segment_video
from simgen.eval.tracks import TRACK_METRICS, mask_centroids, track_errors
from simgen.eval.verifier import VERIFIER_METRICS, verify
from simgen.timing import StageTimer

SCORES = PISA_METRICS + PHYSIQ_METRICS + TRACK_METRICS  # have a variance floor
METRICS = SCORES + VERIFIER_METRICS
HIGHER_IS_BETTER = {"pisa_iou", "physiq_spatial_iou", "physiq_spatiotemporal_iou", "physiq_weighted_spatial_iou"}
PER_OBJECT = PISA_METRICS + TRACK_METRICS + VERIFIER_METRICS
STAGES = ("read", "plate", "segment", "metrics", "variance")


@dataclass
class Options:
    masks_dir: str | None = None
    variance: bool = False
    pred_fps: float | None = None


@dataclass
class SampleResult:
    row: dict  # one line of per_sample.csv
    objects: list[dict] = field(default_factory=list)  # per_object.csv lines
    tracks: dict | None = None  # for the plots: c_gt, c_pd [K, N, 2], frame0
    cpu: dict = field(default_factory=dict)


def normalised(metric: str, value: float, floor: float) -> float:
    """A score against the physical-variance floor: IoU-type (higher is better) value / floor, as
    Physics-IQ divides its IoUs; distances and errors value - floor, as Physics-IQ subtracts its MSE."""
    if not (np.isfinite(value) and np.isfinite(floor)):
        return float("nan")
    if metric in HIGHER_IS_BETTER:
        return float(value / floor) if floor > 0 else float("nan")
    return float(value - floor)


def _nanmean(a) -> float:
    a = np.asarray(a, np.float64)
    return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")


class Scorer(StageTimer):
    def __init__(self, gt_path: str, pred_path: str, options: Options):
        super().__init__()
        self.gt = GroundTruth(gt_path)
        self.preds = open_predictions(pred_path, options.pred_fps)
        self.options = options
        self.renderers = Renderers()
        self._variance = None

    def close(self) -> None:
        if self._variance is not None:
            self._variance.close()
        self.renderers.close()

    def plate(self, cfg, row: dict) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """The plate and the two shade plates (without the key light, without ambient light: what a
        shadow can do to the background), each passed through the dataset's H.264 settings like the GT
        frames were."""
        def encoded(p: np.ndarray) -> np.ndarray:
            reps = np.repeat(p, 2, axis=0) if len(p) == 1 else p
            enc = decode_video(encode_video(reps, float(row["fps"]), crf=cfg.render.crf, preset=cfg.render.preset, x264_params=cfg.render.x264_params))
            return enc[: len(p)]

        return (encoded(render_plate(self.renderers, cfg, row)),
                (encoded(render_plate(self.renderers, cfg, row, "key")),
                 encoded(render_plate(self.renderers, cfg, row, "ambient"))))

    def compare(self, row: dict, frames: np.ndarray, fps: float, plates: tuple | None,
                pd_masks: np.ndarray | None = None) -> tuple[dict, list[dict], dict]:
        """Metrics of one predicted (or variance) video against the GT row."""
        T, H, W, N = int(row["num_frames"]), int(row["height"]), int(row["width"]), int(row["num_objects"])
        gt_fps = float(row["fps"])
        pd_idx, gt_idx = pair_frames(len(frames), fps, T, gt_fps)
        pd = resize_video(frames[pd_idx], H, W)
        gt_video = row["video"][gt_idx]
        labels = row["masks"][gt_idx]
        gm = labels[:, None] == np.arange(1, N + 1)[None, :, None, None]
        with self.timed("segment"):
            if pd_masks is not None:
                if len(pd_masks) <= pd_idx[-1]:
                    raise UserError(f"the masks of {row['sample_id']} have {len(pd_masks)} frames but the prediction "
                                    f"has {len(frames)}; give one mask per predicted frame.")
                pm = resize_masks(pd_masks[pd_idx], H, W)
            else:
                plate, shade = plates
                at = (lambda p: p) if len(plate) == 1 else (lambda p: p[gt_idx])
                pm = segment_video(pd, at(plate), row["video"][0], row["masks"][0], N, tuple(at(x) for x in shade))
        with self.timed("metrics"):
            c_gt, c_pd = mask_centroids(gm), mask_centroids(pm)
            t_gt, t_pd = gt_idx / gt_fps, pd_idx / float(fps)
            per_obj = {**pisa_metrics(gm, pm), **track_errors(c_gt, c_pd, t_gt, t_pd),
                       **verify(row, gt_idx, t_gt, t_pd, c_gt, c_pd)}
            values = {m: _nanmean(per_obj[m]) for m in PER_OBJECT}
            values.update(physiq_metrics(gt_video, pd))
        objects = [{"object": k + 1, **{m: float(per_obj[m][k]) for m in PER_OBJECT}} for k in range(N)]
        info = {"pd_frames": len(frames), "pd_fps": float(fps), "paired_frames": len(pd_idx),
                "last_gt_frame": int(gt_idx[-1]),
                "resized_from": "" if frames.shape[1:3] == (H, W) else f"{frames.shape[2]}x{frames.shape[1]}",
                "c_gt": c_gt, "c_pd": c_pd}
        return values, objects, info

    def score(self, sample_id: str) -> SampleResult:
        self.cpu.clear()
        meta = self.gt.info[sample_id]
        base = {"sample_id": sample_id, "scene": meta["scene"], "split": meta["split"], "engine": meta["engine"],
                "num_objects": meta["num_objects"]}
        if sample_id not in self._pred_ids:
            return SampleResult({**base, "status": "missing"})
        with self.timed("read"):
            row = self.gt.row(sample_id)
            cfg = self.gt.config(sample_id)
            pred = self.preds.load(sample_id)
            masks = None
            if self.options.masks_dir:
                masks = load_masks(self.options.masks_dir, sample_id, int(row["num_objects"]))
        plates = None
        if masks is None or self.options.variance:
            with self.timed("plate"):
                plates = self.plate(cfg, row)
        values, objects, info = self.compare(row, pred.frames, pred.fps, plates, masks)
        out = {**base, "status": "ok", "mask_source": "masks" if masks is not None else "plate",
               **{k: v for k, v in info.items() if not k.startswith("c_")},
               "plate_rmse": float("nan") if plates is None else plate_error(row["video"][0], plates[0][0], row["masks"][0]),
               **values}
        if self.options.variance:
            with self.timed("variance"):
                take = self._takes().take(cfg, row)
            floor, _, _ = self.compare(row, take, float(row["fps"]), plates)
            for m in SCORES:
                out[f"{m}_floor"] = floor[m]
                out[f"{m}_norm"] = normalised(m, values[m], floor[m])
        for o in objects:
            o["sample_id"] = sample_id
        tracks = {"c_gt": info["c_gt"], "c_pd": info["c_pd"], "frame0": row["video"][0]}
        return SampleResult(out, objects, tracks, dict(self.cpu))

    def _takes(self):
        if self._variance is None:
            from simgen.eval.variance import VarianceTakes

            self._variance = VarianceTakes(self.renderers)
        return self._variance

    @property
    def _pred_ids(self) -> set[str]:
        ids = getattr(self, "_ids_cache", None)
        if ids is None:
            ids = self._ids_cache = set(self.preds.ids())
        return ids


# -- worker processes ---------------------------------------------------------------------------------
_WORKER: Scorer | None = None


def _init_worker(gt_path: str, pred_path: str, options: Options) -> None:
    global _WORKER
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("LP_NUM_THREADS", "0")
    _WORKER = Scorer(gt_path, pred_path, options)


def _score_in_worker(sample_id: str) -> SampleResult:
    return _WORKER.score(sample_id)


@dataclass
class Evaluation:
    results: list[SampleResult]
    missing: list[str]
    unmatched: list[str]
    pred_kind: str
    cpu_s: float
    wall_s: float


def evaluate(gt_path: str, pred_path: str, options: Options | None = None, workers: int = 1,
             limit: int | None = None, progress=None) -> Evaluation:
    """Score every GT sample (the first ``limit``) against its prediction. Predictions are probed
    first: an unreadable file raises :class:`UserError` naming it before any scoring. ``progress``: a
    tqdm bar (its total is set here), or None."""
    options = options or Options()
    t0, c0 = time.perf_counter(), time.process_time()
    scorer = Scorer(gt_path, pred_path, options)
    order = scorer.gt.order[:limit] if limit else list(scorer.gt.order)
    pred_ids = scorer._pred_ids
    matched = [s for s in order if s in pred_ids]
    missing = [s for s in order if s not in pred_ids]
    unmatched = sorted(pred_ids - set(scorer.gt.order))
    if not matched:
        raise UserError(f"none of the {len(pred_ids)} prediction(s) in {pred_path} names a sample_id of the GT "
                        f"{gt_path} ({len(order)} samples, e.g. {order[0] if order else '-'}); predictions must be "
                        "named <sample_id>.mp4 (or have a sample_id column).")
    for s in matched:
        scorer.preds.probe(s)
    if progress is not None:
        progress.total = len(order)
        progress.refresh()
    results: list[SampleResult] = []
    child_cpu = 0.0
    if workers <= 1:
        try:
            for s in order:
                results.append(scorer.score(s))
                if progress is not None:
                    progress.update(1)
        finally:
            scorer.close()
    else:
        import multiprocessing as mp
        import resource
        from concurrent.futures import ProcessPoolExecutor

        scorer.close()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                 initargs=(gt_path, pred_path, options)) as pool:
            for r in pool.map(_score_in_worker, order, chunksize=4):
                results.append(r)
                if progress is not None:
                    progress.update(1)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Evaluation(results, missing, unmatched, scorer.preds.kind, time.process_time() - c0 + child_cpu,
                      time.perf_counter() - t0)

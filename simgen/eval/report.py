"""What an evaluation writes: ``per_sample.csv``, ``per_object.csv``, ``summary.json``, ``summary.md`` (also
printed) and PNG plots (``plots/metrics.png``, ``plots/tracks/<sample_id>.png``; matplotlib, optional).

Aggregates are means over the scored samples, NaN values skipped (a metric that a sample cannot have,
e.g. ``restitution_fit`` without a bounce, does not count), per family (``scene``), per ``split`` and overall,
with the number of samples that have a value.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile

import numpy as np

from simgen.eval.evaluate import METRICS, PER_OBJECT, SCORES, Evaluation

ID_COLUMNS = ["sample_id", "scene", "split", "engine", "num_objects", "status", "mask_source", "pd_frames", "pd_fps",
              "paired_frames", "last_gt_frame", "resized_from", "plate_rmse"]
TABLE_METRICS = ["pisa_l2", "pisa_chamfer", "pisa_iou", "physiq_spatiotemporal_iou", "physiq_mse", "centroid_rmse_px",
                 "velocity_rmse_px_s", "g_fit", "g_fit_gt", "g_true", "restitution_fit", "restitution_true",
                 "slide_accel_fit", "slide_accel_true"]


def columns(variance: bool) -> list[str]:
    cols = ID_COLUMNS + list(METRICS)
    if variance:
        cols += [f"{m}_floor" for m in SCORES] + [f"{m}_norm" for m in SCORES]
    return cols


def _atomic_write(path: str, text: str) -> None:
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return "" if v is None else str(v)


def _csv(rows: list[dict], cols: list[str]) -> str:
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_fmt(r.get(c)) for c in cols])
    return buf.getvalue()


def _means(rows: list[dict], metrics: list[str]) -> dict:
    out = {"samples": len(rows)}
    for m in metrics:
        v = np.array([r.get(m, np.nan) for r in rows], np.float64)
        ok = np.isfinite(v)
        out[m] = float(v[ok].mean()) if ok.any() else None
        out[f"{m}_n"] = int(ok.sum())
    return out


def summarize(ev: Evaluation, variance: bool) -> dict:
    scored = [r.row for r in ev.results if r.row.get("status") == "ok"]
    metrics = [c for c in columns(variance) if c not in ID_COLUMNS]
    groups = {"overall": _means(scored, metrics)}
    for key in ("scene", "split"):
        for val in sorted({r[key] for r in scored}):
            groups[f"{key}={val}"] = _means([r for r in scored if r[key] == val], metrics)
    n = len(scored)
    return {
        "samples": len(ev.results), "scored": n, "missing": ev.missing, "unmatched_predictions": ev.unmatched,
        "prediction_format": ev.pred_kind,
        "pairing": "predicted frame i <-> GT frame int(i * gt_fps / pd_fps) (PISA); predicted frames resized "
                   "bilinearly to the GT size",
        "resized": sorted({r["resized_from"] for r in scored if r.get("resized_from")}),
        "mask_source": sorted({r["mask_source"] for r in scored}),
        "groups": groups,
        "cpu_s": ev.cpu_s, "wall_s": ev.wall_s,
        "cpu_s_per_sample": ev.cpu_s / n if n else None,
    }


def markdown(summary: dict, variance: bool) -> str:
    cols = list(TABLE_METRICS)
    if variance:
        cols += ["pisa_iou_norm", "physiq_spatiotemporal_iou_norm", "centroid_rmse_px_norm"]
    head = "| group | n | " + " | ".join(cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for name, g in summary["groups"].items():
        cells = ["-" if g.get(c) is None else f"{g[c]:.4g}" for c in cols]
        lines.append(f"| {name} | {g['samples']} | " + " | ".join(cells) + " |")
    out = "\n".join(lines) + "\n"
    if summary["missing"]:
        out += f"\n{len(summary['missing'])} prediction(s) missing: {', '.join(summary['missing'])}\n"
    if summary["unmatched_predictions"]:
        out += (f"\n{len(summary['unmatched_predictions'])} prediction(s) name no GT sample: "
                f"{', '.join(summary['unmatched_predictions'])}\n")
    return out


def write(ev: Evaluation, out: str, variance: bool, plots: int = 16) -> dict:
    """Write every output file into ``out`` (created); return the summary."""
    os.makedirs(out, exist_ok=True)
    cols = columns(variance)
    _atomic_write(os.path.join(out, "per_sample.csv"), _csv([r.row for r in ev.results], cols))
    objs = [o for r in ev.results for o in r.objects]
    _atomic_write(os.path.join(out, "per_object.csv"), _csv(objs, ["sample_id", "object", *PER_OBJECT]))
    summary = summarize(ev, variance)
    _atomic_write(os.path.join(out, "summary.json"), json.dumps(summary, indent=2, allow_nan=False) + "\n")
    _atomic_write(os.path.join(out, "summary.md"), markdown(summary, variance))
    if plots >= 0:
        summary["plots"] = write_plots(ev, out, plots)
    return summary


def write_plots(ev: Evaluation, out: str, n_tracks: int) -> str:
    """``plots/metrics.png`` (histograms) and up to ``n_tracks`` track plots; a note when matplotlib is
    not installed (``pip install simgen[eval]``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "skipped: matplotlib is not installed (pip install 'simgen[eval]')"
    folder = os.path.join(out, "plots")
    os.makedirs(os.path.join(folder, "tracks"), exist_ok=True)
    scored = [r for r in ev.results if r.row.get("status") == "ok"]
    shown = [m for m in ("pisa_l2", "pisa_chamfer", "pisa_iou", "physiq_spatial_iou", "physiq_spatiotemporal_iou",
                         "physiq_weighted_spatial_iou", "physiq_mse", "centroid_rmse_px", "g_fit")]
    fig, axes = plt.subplots(3, 3, figsize=(11, 8.5))
    for ax, m in zip(axes.ravel(), shown):
        v = np.array([r.row.get(m, np.nan) for r in scored], np.float64)
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=min(30, max(5, v.size // 3)), color="#4c72b0")
        if m == "g_fit":
            ax.axvline(9.81, color="k", ls="--", lw=1)
        ax.set_title(f"{m} (n={v.size})", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "metrics.png"), dpi=90)
    plt.close(fig)
    for r in scored[:n_tracks]:
        t = r.tracks
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(t["frame0"])
        for k in range(t["c_gt"].shape[1]):
            col = f"C{k % 10}"
            ax.plot(t["c_gt"][:, k, 0], t["c_gt"][:, k, 1], "-o", color=col, ms=2, lw=1.2, label=f"GT {k + 1}")
            ax.plot(t["c_pd"][:, k, 0], t["c_pd"][:, k, 1], "--x", color=col, ms=3, lw=1, label=f"pred {k + 1}")
        ax.set_title(r.row["sample_id"], fontsize=8)
        ax.legend(fontsize=6, loc="lower right")
        ax.axis("off")
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "tracks", f"{r.row['sample_id']}.png"), dpi=80)
        plt.close(fig)
    return f"{folder} (metrics.png, {min(n_tracks, len(scored))} track plot(s))"

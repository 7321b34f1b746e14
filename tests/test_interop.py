"""Other readers open simgen shards: Hugging Face datasets, Ray Data, pandas, DuckDB, and the
dataset card (README.md) written at the end of a run is there and ignored by the readers."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from collections import Counter

import pytest

from simgen.data import open_dataset

N = 6


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("interop") / "freefall"
    env = dict(os.environ, PYOPENGL_PLATFORM="egl", LP_NUM_THREADS="0")
    cmd = [sys.executable, "-m", "simgen", f"n={N}", "shard_size=3", "workers=1", "render.width=64",
           "render.height=64", "render.frames=8", f"out={out}", "runner.progress=false"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return str(out)


@pytest.fixture(scope="module")
def reference(ds_path):
    """ids, and (scene, split) counts through simgen's own reader."""
    t = open_dataset(ds_path).metadata_table(columns=("sample_id", "scene", "split"))
    ids = t.column("sample_id").to_pylist()
    counts = Counter(zip(t.column("scene").to_pylist(), t.column("split").to_pylist()))
    return ids, counts


def shard_files(path):
    return sorted(glob.glob(os.path.join(path, "*.parquet")))


def test_dataset_card_written_and_ignored_by_the_reader(ds_path, reference):
    card = os.path.join(ds_path, "README.md")
    assert os.path.isfile(card)
    text = open(card).read()
    assert "# simgen dataset: freefall" in text
    assert f"| videos | {N} |" in text
    assert "| `masks` |" in text and "from simgen.data import open_dataset" in text
    manifest_hash = __import__("json").load(open(os.path.join(ds_path, "_simgen.json")))["config_hash"]
    assert manifest_hash in text
    assert not [n for n in os.listdir(ds_path) if n.startswith(".tmp-")]  # written atomically
    ds = open_dataset(ds_path)
    assert len(ds) == N and all(s.path.endswith(".parquet") for s in ds.shards)
    assert ds.metadata_table(("sample_id",)).column(0).to_pylist() == reference[0]


def test_huggingface_datasets_reads_same_rows_and_ids(ds_path, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    hf = datasets.load_dataset("parquet", data_files=shard_files(ds_path), split="train",
                               cache_dir=str(tmp_path / "hf"))
    assert hf.num_rows == N
    assert list(hf["sample_id"]) == reference[0]
    # nested ground truth arrives as numbers, e.g. positions [T][N][3]
    row = hf[0]
    assert len(row["positions"]) == 8 and len(row["positions"][0][0]) == 3
    # the folder itself also loads: the card's YAML header points the loader at *.parquet only
    hf2 = datasets.load_dataset(ds_path, split="train", cache_dir=str(tmp_path / "hf2"))
    assert sorted(hf2["sample_id"]) == sorted(reference[0])


def test_ray_data_reads_same_rows_and_ids(ds_path, reference):
    pytest.importorskip("ray")
    # In its own process: Ray Data keeps per-process state (stats actor, context) bound to the first
    # Ray session, so a second session in the same pytest process (tests/test_ray.py) would hang.
    code = (
        "import json, sys, ray, ray.data\n"
        "ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False,\n"
        "         _node_ip_address='127.0.0.1')\n"
        "rd = ray.data.read_parquet(sys.argv[1], file_extensions=['parquet'])\n"
        "print(json.dumps([r['sample_id'] for r in rd.select_columns(['sample_id']).take_all()]))\n"
        "ray.shutdown()\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(ds_path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    import json

    ids = json.loads(res.stdout.strip().splitlines()[-1])
    assert len(ids) == N
    assert sorted(ids) == sorted(reference[0])


def test_pandas_counts_by_scene_and_split(ds_path, reference):
    pd = pytest.importorskip("pandas")
    df = pd.read_parquet(shard_files(ds_path), columns=["sample_id", "scene", "split", "num_objects"])
    assert list(df["sample_id"]) == reference[0]
    counts = df.groupby(["scene", "split"]).size().to_dict()
    assert counts == dict(reference[1])
    # a folder path works too when README.md is skipped the way _simgen.json is
    df2 = pd.read_parquet(ds_path, columns=["sample_id"], ignore_prefixes=[".", "_", "README"])
    assert len(df2) == N


def test_duckdb_counts_by_scene_and_split(ds_path, reference):
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"SELECT scene, split, count(*) AS n FROM read_parquet('{ds_path}/*.parquet') GROUP BY scene, split"
    ).fetchall()
    assert {(s, sp): n for s, sp, n in rows} == dict(reference[1])
    ids = [r[0] for r in duckdb.sql(
        f"SELECT sample_id FROM read_parquet('{ds_path}/*.parquet') ORDER BY sample_id").fetchall()]
    assert ids == sorted(reference[0])

"""The ground-truth side of an evaluation: a simgen dataset read by ``sample_id``, with the generation
config of each sample's shard (the shard's file metadata, key ``simgen``), which the background plate and
the variance take need to rebuild the sample's scene."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from simgen.data import open_dataset
from simgen.errors import UserError

LIGHT = ["sample_id", "index", "scene", "split", "engine", "num_objects"]
# what scoring reads of a GT row (not depth)
READ = ["split", "fps", "physics_hz", "video", "masks", "times", "positions", "linear_velocity", "object_shape",
        "object_size", "visible_fraction", "restitution", "friction", "first_contact_frame", "contacts",
        "intrinsics", "cam_to_world", "projection", "gravity", "params"]


class GroundTruth:
    def __init__(self, path: str):
        self.path = path
        self.ds = open_dataset(path, columns=READ)
        meta = self.ds.metadata_table(LIGHT).to_pydict()
        self.order: list[str] = [str(s) for s in meta["sample_id"]]
        self.info = {sid: {k: meta[k][i] for k in LIGHT} for i, sid in enumerate(self.order)}
        self._pos = {sid: i for i, sid in enumerate(self.order)}
        self._configs: dict[str, DictConfig] = {}

    def __len__(self) -> int:
        return len(self.order)

    def row(self, sample_id: str) -> dict:
        """The sample contract (numpy) of one GT sample; its masks are required."""
        s = self.ds[self._pos[sample_id]]
        if s.get("masks") is None:
            raise UserError(f"GT sample {sample_id} in {self.path} has no masks (generated with render.masks=false); "
                            "simgen.eval needs the GT masks: regenerate with render.masks=true.")
        s["cam_to_world"] = np.asarray(s["cam_to_world"], np.float64)
        return s

    def config(self, sample_id: str) -> DictConfig:
        """The generation config stored in the sample's shard (``simgen`` metadata, key ``config``)."""
        shard, _, _ = self.ds.locate(self._pos[sample_id])
        cfg = self._configs.get(shard.path)
        if cfg is None:
            with self.ds.fs.open_input_file(shard.path) as f:
                md = pq.ParquetFile(f).schema_arrow.metadata or {}
            try:
                raw = json.loads(md.get(b"simgen", b"{}"))["config"]
            except (ValueError, KeyError):
                raise UserError(f"shard {shard.path} has no simgen config in its metadata; it was not written by "
                                "python -m simgen, so its scenes cannot be rebuilt.") from None
            cfg = self._configs[shard.path] = OmegaConf.create(raw)
        return cfg

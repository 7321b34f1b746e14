"""What an export reads: one or more simgen datasets, streamed row group by row group.

The parent process reads only the light columns (ids, caption, shape, fps) of every row to plan the
export; workers read the heavy cells (video, masks) of one row group at a time through
:class:`simgen.data.SimgenDataset`, so no process ever holds more than one sample's pixels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from simgen.data import SimgenDataset, decode_row
from simgen.errors import UserError

LIGHT = ("sample_id", "scene", "split", "caption", "num_frames", "fps", "width", "height", "num_objects")
UNIT_ROWS = 8  # samples per worker task (progress granularity)


@dataclass(frozen=True)
class Light:
    """One selected sample as the planner sees it (no pixels)."""

    dataset: int  # position of its dataset in the input list
    pos: int  # row position inside that dataset
    sample_id: str
    scene: str
    split: str
    caption: str
    num_frames: int
    fps: float
    width: int
    height: int
    num_objects: int


@dataclass(frozen=True)
class Unit:
    """A worker task: some samples of one dataset, in dataset order."""

    dataset: int
    samples: tuple[Light, ...]


class Source:
    def __init__(self, datasets: Sequence[str]):
        if not datasets:
            raise UserError("Give at least one dataset folder or URI.")
        self.uris = list(datasets)
        self.readers = [SimgenDataset(u, columns=[c for c in LIGHT if c != "sample_id"]) for u in self.uris]

    def metadata(self) -> list[dict]:
        """Each input's shard metadata (resolved config, config hash, simgen version)."""
        return [r.metadata for r in self.readers]

    def identity(self) -> list[dict]:
        """What makes two exports "of the same dataset": each input's config hash and scene."""
        return [{"config_hash": r.metadata.get("config_hash"), "scene": r.metadata.get("scene")} for r in self.readers]

    def select(self, split: str | None = None, scenes: Iterable[str] | None = None) -> list[Light]:
        """The samples to export, in input order, filtered by split and scene (light columns only)."""
        rows: list[Light] = []
        seen_scenes: Counter = Counter()
        seen_splits: Counter = Counter()
        want_scenes = set(scenes) if scenes else None
        for d, r in enumerate(self.readers):
            t = r.metadata_table(columns=LIGHT).to_pydict()
            for pos in range(len(t["sample_id"])):
                seen_scenes[t["scene"][pos]] += 1
                seen_splits[t["split"][pos]] += 1
                if split is not None and t["split"][pos] != split:
                    continue
                if want_scenes is not None and t["scene"][pos] not in want_scenes:
                    continue
                rows.append(Light(d, pos, *(t[c][pos] for c in LIGHT)))
        if want_scenes is not None and not want_scenes <= set(seen_scenes):
            missing = sorted(want_scenes - set(seen_scenes))
            raise UserError(f"--scene {' '.join(missing)}: no such scene in the dataset; it holds "
                            + ", ".join(f"{k} ({v})" for k, v in sorted(seen_scenes.items())) + ".")
        if not rows:
            def counts(c: Counter) -> str:
                return ", ".join(f"{k} ({v})" for k, v in sorted(c.items()))

            raise UserError(f"No sample matches --split {split}"
                            + (f" --scene {' '.join(sorted(want_scenes))}" if want_scenes else "")
                            + f": the dataset holds splits {counts(seen_splits)} and scenes {counts(seen_scenes)}.")
        dup = [k for k, v in Counter(s.sample_id for s in rows).items() if v > 1]
        if dup:
            raise UserError(f"sample_id {dup[0]!r} appears {Counter(s.sample_id for s in rows)[dup[0]]} times in "
                            "the input: export one of the datasets that hold it, or filter with --scene/--split.")
        return rows


def units(samples: Sequence[Light], size: int = UNIT_ROWS) -> list[Unit]:
    """Cut the selection into worker tasks of up to ``size`` samples of one dataset."""
    out: list[Unit] = []
    cur: list[Light] = []
    for s in samples:
        if cur and (s.dataset != cur[0].dataset or len(cur) >= size):
            out.append(Unit(cur[0].dataset, tuple(cur)))
            cur = []
        cur.append(s)
    if cur:
        out.append(Unit(cur[0].dataset, tuple(cur)))
    return out


class RowReader:
    """Reads one sample's cells (``columns``) at a time; a row group read once serves its rows."""

    def __init__(self, uri: str, columns: Sequence[str]):
        self.ds = SimgenDataset(uri, columns=list(columns), decode_video=False)
        self._key = None
        self._table = None

    def read(self, pos: int) -> dict:
        shard, g, row = self.ds.locate(pos)
        if self._key != (shard.path, g):
            self._table, _ = self.ds.read_table(pos)
            self._key = (shard.path, g)
        return decode_row(self._table, row, decode_video_frames=False)

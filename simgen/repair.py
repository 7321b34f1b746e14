"""``python -m simgen.repair <out>``: rebuild a dataset folder's ``_simgen.json`` from its shards.

For a manifest that was deleted, damaged or never finished. Every shard is checked in full (footer,
schema, simgen metadata, every page against its checksum: :func:`simgen.integrity.verify_file`);
the config, shard size and config hash come from the shards' own metadata, and the manifest records
each intact shard's SHA-256 as a finished run would. Damaged shards are deleted (rerunning the
generation command regenerates them); shards written with different configs are refused, as
``python -m simgen`` refuses to mix them. The folder is locked while this runs (:mod:`simgen.lock`).

Exit status: 0 when the manifest was written, 2 when it could not be (nothing changed then).
"""

from __future__ import annotations

import argparse
import sys

import simgen
from simgen.errors import CorruptShardError, UserError


def repair(out: str, log=print) -> dict:
    """Rebuild ``<out>/_simgen.json``; returns the manifest written."""
    from omegaconf import OmegaConf

    from simgen.config import config_hash, content_config
    from simgen.integrity import file_sha256, verify_file
    from simgen.lock import FolderLock
    from simgen.shards import MANIFEST, OutputFolder, num_shards

    folder = OutputFolder(out)
    if not folder.fs.get_file_info(folder.root).type.name == "Directory":
        raise UserError(f"No dataset folder at {out!r}.")
    with FolderLock(folder, command=f"python -m simgen.repair {out}"):
        names = folder.shard_names()
        if not names:
            raise UserError(f"{out!r} holds no shard-NNNNNN.parquet files: there is nothing to rebuild a manifest from.")
        good: dict[str, dict] = {}
        bad: list[tuple[str, str]] = []
        for k, name in sorted(names.items()):
            path = folder.path(name)
            try:
                meta = verify_file(folder.fs, path)
            except CorruptShardError as exc:
                bad.append((name, str(exc)))
                continue
            if meta.get("shard") != k or meta.get("rows") != meta.get("stop", -1) - meta.get("start", 0):
                bad.append((name, f"its metadata says shard {meta.get('shard')}, rows {meta.get('start')}..{meta.get('stop')}"))
                continue
            good[name] = meta
        hashes = sorted({m.get("config_hash") for m in good.values()})
        if len(hashes) > 1:
            raise UserError(f"{out!r} holds shards of {len(hashes)} different configurations (config hashes "
                            f"{', '.join(map(str, hashes))}): simgen does not mix them in one dataset. Move the ones you "
                            "do not want elsewhere, then run this again.")
        if not good:
            raise UserError(f"No intact shard in {out!r} ({len(bad)} damaged): nothing to rebuild a manifest from. "
                            "Rerun the generation command with overwrite=true.")
        first = next(iter(good.values()))
        cfg = OmegaConf.create(first["config"])
        if config_hash(cfg) != hashes[0]:
            raise UserError(f"The shards' metadata in {out!r} does not reproduce their config hash {hashes[0]}: they "
                            f"were written by another simgen version ({first.get('simgen_version')}).")
        for name, why in bad:
            log(f"simgen.repair: {name} is damaged ({why}); deleting it, rerunning the generation command regenerates it")
            folder.fs.delete_file(folder.path(name))
        records = {}
        for name in good:
            sha, size = file_sha256(folder.fs, folder.path(name))
            records[name] = {"rows": good[name]["rows"], "bytes": size, "sha256": sha}
        n = max(int(m["config"]["n"]) for m in good.values())  # runs that resumed with a larger n wrote later shards
        size = int(cfg.shard_size)
        manifest = {
            "simgen_version": simgen.__version__,
            "schema_version": first.get("schema_version", simgen.SCHEMA_VERSION),
            "config_hash": hashes[0],
            "n": n,
            "shard_size": size,
            "num_shards": num_shards(n, size),
            "config": content_config(cfg),
            "shards": records,
        }
        folder.write_manifest(manifest)
        rows = sum(r["rows"] for r in records.values())
        log(f"simgen.repair: wrote {folder.path(MANIFEST)}: {len(records)} intact shard(s), {rows} of {n} videos, "
            f"config hash {hashes[0]}" + (f"; {len(bad)} damaged shard(s) deleted" if bad else "")
            + ". Rerun the generation command to finish the dataset.")
        return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simgen.repair", description=__doc__.splitlines()[0])
    p.add_argument("out", help="dataset folder or URI (the out= of the generation command)")
    args = p.parse_args(argv)
    try:
        repair(args.out)
        return 0
    except UserError as exc:
        print(f"simgen.repair: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

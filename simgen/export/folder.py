"""The export folder: atomic file writes, the export manifest, and the refuse/resume decision.

Every file is written whole into ``<out>/.simgen-export-tmp/`` and moved to its final path when
complete (a rename on a local disk; a whole-object copy on an object store), so a file under its
final name is always complete. ``_simgen_export.json`` says which dataset(s), format and options the
folder holds. A rerun with the same ones resumes (finished files are kept); anything else in a
non-empty folder is refused unless ``force`` is given. Works on a local folder or any pyarrow
filesystem URI (``file://``, ``s3://``, ``gs://``).
"""

from __future__ import annotations

import json
import os
import posixpath
import uuid

import pyarrow as pa
import pyarrow.fs as pafs

from simgen.errors import UserError
from simgen.shards import resolve_output

MANIFEST = "_simgen_export.json"
TMP_DIR = ".simgen-export-tmp"

# How a run treats files already under their final names.
FRESH = "fresh"          # empty folder: nothing to skip
RESUME = "resume"        # a previous export of the same dataset, format and options: skip finished files
OVERWRITE = "overwrite"  # --force over other content: rewrite every file, skip nothing


class ExportFolder:
    def __init__(self, out: str):
        self.uri = out
        self.fs, self.root = resolve_output(out)
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        self._dirs: set[str] = set()

    # -- paths ---------------------------------------------------------------------------------
    def path(self, rel: str) -> str:
        return posixpath.join(self.root, rel)

    def display(self, rel: str) -> str:
        """The path a tool should be given for ``rel``: absolute on a local disk, else a URI."""
        if self.local:
            return self.path(rel).replace("/", os.sep)
        return self.uri.rstrip("/") + "/" + rel

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type == pafs.FileType.File

    # -- writes --------------------------------------------------------------------------------
    def _mkdir(self, d: str) -> None:
        if d not in self._dirs:
            self.fs.create_dir(d, recursive=True)
            self._dirs.add(d)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel`` atomically: whole under its final name or absent."""
        final = self.path(rel)
        tmp = self.path(f"{TMP_DIR}/{uuid.uuid4().hex}-{posixpath.basename(rel)}")
        self._mkdir(self.path(TMP_DIR))
        self._mkdir(posixpath.dirname(final))
        with self.fs.open_output_stream(tmp) as f:
            f.write(data)
        self.fs.move(tmp, final)

    def write_text(self, rel: str, text: str) -> None:
        self.write_bytes(rel, text.encode("utf-8"))

    def read_text(self, rel: str) -> str:
        with self.fs.open_input_stream(self.path(rel)) as f:
            return f.read().decode("utf-8")

    # -- folder state --------------------------------------------------------------------------
    def _entries(self) -> list[str]:
        info = self.fs.get_file_info(self.root)
        if info.type == pafs.FileType.File:
            raise UserError(f"--out {self.uri!r} is a file, not a folder; give a folder (it is created if missing).")
        if info.type == pafs.FileType.NotFound:
            return []
        sel = pafs.FileSelector(self.root, allow_not_found=True, recursive=False)
        return sorted(posixpath.basename(i.path) for i in self.fs.get_file_info(sel))

    def read_manifest(self) -> dict | None:
        if not self.exists(MANIFEST):
            return None
        try:
            return json.loads(self.read_text(MANIFEST))
        except (OSError, ValueError):
            return None

    def write_manifest(self, manifest: dict) -> None:
        self.write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    def prepare(self, identity: dict, force: bool) -> str:
        """Decide how this run treats the folder (FRESH, RESUME or OVERWRITE), remove leftover
        temporaries and write the manifest (state ``writing``). Raises UserError for a non-empty
        folder that is not a previous export of ``identity`` unless ``force``."""
        try:
            entries = [e for e in self._entries() if e != TMP_DIR]
            old = self.read_manifest()
            if not entries:
                mode = FRESH
            elif old is not None and _same(old, identity) and not old.get("overwrite_pending"):
                mode = RESUME
            elif old is not None and _same(old, identity):
                mode = OVERWRITE  # a forced run was interrupted: its files cannot be told from older ones
            elif force:
                mode = OVERWRITE
            else:
                raise UserError(_refusal(self.uri, entries, old, identity))
            self.fs.create_dir(self.root, recursive=True)
            self.fs.delete_dir_contents(self.path(TMP_DIR), missing_dir_ok=True)
            self.write_manifest({**identity, "state": "writing", "overwrite_pending": mode == OVERWRITE})
        except UserError:
            raise
        except (OSError, pa.ArrowException) as exc:
            raise UserError(f"Cannot write to --out {self.uri!r}: {exc}. Choose a folder you can write to.") from None
        return mode

    def finish(self, identity: dict, samples: int) -> None:
        self.write_manifest({**identity, "state": "complete", "overwrite_pending": False, "samples": samples})
        if self.fs.get_file_info(self.path(TMP_DIR)).type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(TMP_DIR))


def _same(old: dict, identity: dict) -> bool:
    return all(old.get(k) == v for k, v in identity.items())


def _refusal(uri: str, entries: list[str], old: dict | None, identity: dict) -> str:
    shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
    if old is None:
        what = f"it is not empty ({shown}) and is not a simgen export"
    else:
        diffs = [k for k, v in identity.items() if old.get(k) != v]
        what = "it holds a simgen export of " + (
            "another format" if "format" in diffs else
            "another dataset" if "datasets" in diffs else
            "the same dataset with other options (" + ", ".join(
                f"{k}: {old.get('options', {}).get(k)!r} -> {v!r}"
                for k, v in identity.get("options", {}).items() if old.get("options", {}).get(k) != v) + ")"
        )
    return (f"Refusing to write into --out {uri!r}: {what}. Give an empty or new folder, or pass --force to "
            "write into it anyway (files with the same names are overwritten; nothing else is deleted).")

"""Helper for test_render_determinism.py: render samples in this (fresh) process and print a hash
of each output array, one JSON object per line.

    python tests/render_hashes.py <backend> <n> [override ...]
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

os.environ.setdefault("LP_NUM_THREADS", "0")


def main() -> None:
    backend, n, overrides = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    from simgen.config import load_config
    from simgen.generate import Pipeline

    pipe = Pipeline(load_config([f"render.backend={backend}", *overrides]))
    for i in range(n):
        spec, traj, _ = pipe.simulate(i)
        f = pipe.renderer.render(spec, traj, silhouettes=True)
        out = {"index": i}
        for key in ("rgb", "yuv420", "masks", "depth", "unoccluded"):
            v = getattr(f, key, None)
            if v is not None:
                import numpy as np

                out[key] = hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()[:16]
        print(json.dumps(out), flush=True)
    pipe.close()


if __name__ == "__main__":
    main()

"""CPU time per stage of a pipeline (this process), as the CLI, the benchmarks and the evaluator report it."""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager


class StageTimer:
    """``with self.timed("render"): ...`` adds the block's CPU seconds to ``self.cpu["render"]``."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def timed(self, stage: str):
        t = time.process_time()
        try:
            yield
        finally:
            self.cpu[stage] += time.process_time() - t

"""``simgen.eval``: score a video model's predictions against simgen ground truth.

``python -m simgen.eval GT PRED`` (see :mod:`simgen.eval.cli`). One module per job:

- :mod:`~simgen.eval.groundtruth` reads GT samples and their shard's generation config;
- :mod:`~simgen.eval.predictions` reads predicted videos (mp4 folder or Parquet), pairs their frames with the
  GT's (PISA's rule) and resizes them;
- :mod:`~simgen.eval.plate` renders a sample's static scene without objects (background plate);
- :mod:`~simgen.eval.segment` turns a video into per-object masks with the plate and the GT's first frame;
- :mod:`~simgen.eval.metrics_pisa`, :mod:`~simgen.eval.metrics_physiq`, :mod:`~simgen.eval.tracks`: metrics;
- :mod:`~simgen.eval.verifier`: g, restitution and slide acceleration fitted in metres;
- :mod:`~simgen.eval.variance`: a re-simulated take with a 1 mm perturbation (the physical-variance floor);
- :mod:`~simgen.eval.evaluate` runs it all per sample; :mod:`~simgen.eval.report` writes the results.
"""

from simgen.eval.evaluate import Options, evaluate

__all__ = ["Options", "evaluate"]

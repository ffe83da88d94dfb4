"""Helpers shared by the package: the clip format (public) and private modules.

Public here, for building and reading the ragged per-clip inputs that the
front ends return and every estimator accepts (see :mod:`._clips`):

- :func:`make_clips`: pack per-clip arrays into one row per clip;
- :func:`is_clips`: whether an input is clips;
- :func:`flatten_clips`: every clip's segments as one 2-D matrix, with the
  clip of each segment;
- :func:`mean_per_clip`: average segment rows (e.g. posteriors) per clip.

and :func:`torch_threads`, torch's thread count around a block (what the
estimators' ``n_threads`` does), for code that calls the engine or predicts
outside an estimator, such as the command line.

Private modules, for the package's own use (not a public API):

- :mod:`._clips`: the clip format above (and ``segment_shape``);
- :mod:`._params`: declarative parameter rules and ``validate_params``;
- :mod:`._scaling`: per-feature standardisation in chunks;
- :mod:`._threads`: :func:`torch_threads`;
- :mod:`._metrics`: the scores, public as :mod:`skpathnet.metrics`.
"""

from ._clips import flatten_clips, is_clips, make_clips, mean_per_clip
from ._threads import torch_threads

__all__ = ["flatten_clips", "is_clips", "make_clips", "mean_per_clip", "torch_threads"]

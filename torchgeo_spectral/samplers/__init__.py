"""Spatially honest splits and samplers for labelled spectral scenes.

* :func:`spatial_block_split` cuts a label map into blocks and carves a guard
  band so that no test patch overlaps a training patch; :class:`SpatialSplit`
  holds the result and saves/loads it.
* :class:`ClassBalancedSampler` draws dataset indices with classes equally
  represented.
"""

from .balanced import ClassBalancedSampler
from .splits import (
    SpatialSplit,
    indices_for_pixels,
    scene_fingerprint,
    spatial_block_split,
)

__all__ = (
    'ClassBalancedSampler',
    'SpatialSplit',
    'indices_for_pixels',
    'scene_fingerprint',
    'spatial_block_split',
)

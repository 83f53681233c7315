"""Spatially honest splits and samplers for labelled spectral scenes.

* :func:`spatial_block_split` cuts a label map into blocks and carves a guard
  band so that no test patch overlaps a training patch; :class:`SpatialSplit`
  holds the result and saves/loads it; :class:`SplitSettings` keeps the
  recipe of a split in one place; :func:`given_test_split` keeps the test
  pixels a scene came with (a separate test label map).
* :class:`ClassBalancedSampler` draws dataset indices with classes equally
  represented; :class:`ClassBalancedGeoSampler` does the same for patches of a
  TorchGeo dataset centred on the labelled pixels of a label raster.
* :func:`block_rois` and :func:`split_geometries` give spatially disjoint
  regions of interest for TorchGeo samplers' ``roi``.
* :class:`BandSetBatchSampler`: batches of one band set each, for pretraining
  on cubes of several sensors.
* :class:`ResumableDataLoader` and :class:`EpochSeededSampler`: exact mid-epoch
  resumption from checkpoints.
"""

from .balanced import ClassBalancedSampler
from .band_set import BandSetBatchSampler
from .geo import (
    ClassBalancedGeoSampler,
    block_rois,
    read_label_raster,
    split_geometries,
)
from .resumable import EpochSeededSampler, ResumableDataLoader
from .splits import (
    SpatialSplit,
    SplitSettings,
    given_test_split,
    indices_for_pixels,
    scene_fingerprint,
    spatial_block_split,
)

__all__ = (
    'BandSetBatchSampler',
    'ClassBalancedGeoSampler',
    'ClassBalancedSampler',
    'EpochSeededSampler',
    'ResumableDataLoader',
    'SpatialSplit',
    'SplitSettings',
    'block_rois',
    'given_test_split',
    'indices_for_pixels',
    'read_label_raster',
    'scene_fingerprint',
    'spatial_block_split',
    'split_geometries',
)

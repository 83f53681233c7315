"""Tiled georeferenced prediction and embedding export.

* :func:`predict_raster`: class map (and class probabilities) of a raster of any
  size, tiled with TorchGeo's gridded sampler, Hann-blended, streamed to a tiled
  compressed GeoTIFF; atomic and resumable.
* :func:`export_embeddings`: per-patch encoder embeddings (GeoTIFF at patch
  resolution) and pooled per-tile embeddings (GeoParquet of tile footprints).
* :func:`load_predictor` / :func:`load_embedder`: open task checkpoints as the
  small callables both functions take (see :mod:`.protocol`).
"""

from .checkpoint import (
    CheckpointError,
    load_embedder,
    load_predictor,
    load_task,
    resolve_device,
)
from .embed import EmbeddingResult, export_embeddings
from .predict import PredictionResult, predict_raster
from .protocol import Embedder, ModelInfo, Predictor
from .tiling import Tile, TileGrid, blend_weights, hann_1d, make_grid
from .writer import OutputWriteError

__all__ = [
    'CheckpointError',
    'Embedder',
    'EmbeddingResult',
    'ModelInfo',
    'OutputWriteError',
    'PredictionResult',
    'Predictor',
    'Tile',
    'TileGrid',
    'blend_weights',
    'export_embeddings',
    'hann_1d',
    'load_embedder',
    'load_predictor',
    'load_task',
    'make_grid',
    'predict_raster',
    'resolve_device',
]

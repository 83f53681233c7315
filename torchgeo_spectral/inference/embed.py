"""Encoder embeddings over georeferenced rasters: per patch and per tile."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import torch
from numpy.typing import NDArray
from rasterio.transform import Affine

from .checkpoint import load_embedder
from .job import open_job
from .protocol import Embedder, ModelInfo
from .raster import RasterInfo
from .tiling import Tile, clip_span
from .writer import (
    WRITE_ERRORS,
    AtomicGeoTIFF,
    OutputSpec,
    OutputWriteError,
    partial_path,
)

__all__ = ['EmbeddingResult', 'export_embeddings']


@dataclass(frozen=True)
class EmbeddingResult:
    """Summary of an :func:`export_embeddings` run.

    Attributes:
        raster: Path of the per-patch embedding GeoTIFF, if written.
        tiles: Path of the per-tile GeoParquet, if written.
        embed_dim: Embedding width ``D``.
        patch_size: Patch size ``p`` (the GeoTIFF's pixel is ``p`` input pixels).
        num_tiles: Tiles in the grid.
        seconds: Wall time of the call.
    """

    raster: Path | None
    tiles: Path | None
    embed_dim: int
    patch_size: int
    num_tiles: int
    seconds: float


class _TilePooler:
    """Collects the mean embedding of every tile over its valid patches."""

    def __init__(self, raster: RasterInfo, patch: int) -> None:
        self.raster = raster
        self.patch = patch
        self.rows: list[dict[str, Any]] = []

    def __call__(
        self, tile: Tile, values: NDArray[np.float32], valid: NDArray[np.bool_]
    ) -> None:
        """Pool one tile's feature map.

        Args:
            tile: The tile.
            values: Feature map (D, n, n).
            valid: Valid patches (n, n).
        """
        if not valid.any():
            return
        pooled = values[:, valid].mean(axis=1)
        r0, r1, _, _ = clip_span(tile.row_off, tile.row_end, self.raster.height)
        c0, c1, _, _ = clip_span(tile.col_off, tile.col_end, self.raster.width)
        t: Affine = self.raster.transform
        corners = [t @ (c, r) for c, r in ((c0, r0), (c1, r0), (c1, r1), (c0, r1))]
        self.rows.append(
            {
                'tile_id': tile.index,
                'grid_row': tile.grid_row,
                'grid_col': tile.grid_col,
                'row_off': r0,
                'col_off': c0,
                'height': r1 - r0,
                'width': c1 - c0,
                'valid_fraction': float(valid.mean()),
                'embedding': pooled.astype(np.float32),
                'geometry': shapely.Polygon(corners),
            }
        )

    def write(self, path: Path, crs: Any) -> None:
        """Write the tiles as GeoParquet to the partial name of ``path``.

        Args:
            path: Output path (renamed onto by the caller once all is written).
            crs: CRS of the geometries, or None.

        Raises:
            OutputWriteError: If the file cannot be written.
        """
        import geopandas as gpd

        frame = gpd.GeoDataFrame(self.rows, geometry='geometry', crs=crs)
        frame['embedding'] = [list(map(float, e)) for e in frame['embedding']]
        tmp = partial_path(path)
        try:
            frame.to_parquet(tmp, index=False)
        except WRITE_ERRORS as err:
            tmp.unlink(missing_ok=True)
            reason = getattr(err, 'strerror', None) or ' '.join(str(err).split())
            raise OutputWriteError(
                getattr(err, 'errno', None) or 0, f'cannot write {tmp}: {reason}'
            ) from err


def export_embeddings(
    model: Embedder | str | Path,
    input: str | Path,
    output: str | Path | None = None,
    *,
    tiles_output: str | Path | None = None,
    info: ModelInfo | None = None,
    wavelengths: Sequence[float] | None = None,
    tile_size: int = 64,
    overlap: int = 16,
    batch_size: int = 8,
    device: str | torch.device = 'cpu',
    overwrite: bool = False,
    progress: bool = True,
    task_class: str | type[Any] | None = None,
) -> EmbeddingResult:
    """Export encoder embeddings of a raster, per patch and per tile.

    ``output`` receives the encoder's per-patch feature map as a float32 GeoTIFF
    with one band per embedding dimension, at patch resolution (the input's
    transform scaled by the patch size; overlapping tiles are Hann-blended like
    class logits). ``tiles_output`` receives one row per tile as GeoParquet:
    ``tile_id``, grid position, pixel window, ``valid_fraction``, ``embedding``
    (the mean over the tile's valid patches, a list of ``D`` floats) and
    ``geometry`` (the tile footprint, clipped to the raster, in the raster CRS).

    Args:
        model: An embedder callable returning ``(B, D, h / p, w / p)``, or the
            path of any torchgeo_spectral task checkpoint (pretraining included).
        input: Input raster.
        output: Per-patch embedding GeoTIFF, or None.
        tiles_output: Per-tile GeoParquet, or None.
        info: What the embedder expects (``patch_size`` above all); read from the
            checkpoint when ``model`` is a path.
        wavelengths: Band centres (nm) of the input; by default from its metadata.
        tile_size: Tile side in pixels (a multiple of the patch size).
        overlap: Overlap of neighbouring tiles (a multiple of the patch size).
        batch_size: Tiles per model call.
        device: Torch device.
        overwrite: Replace existing outputs.
        progress: Show a progress bar.
        task_class: Task class of a checkpoint that does not record it.

    Returns:
        A summary of the run.

    Raises:
        ValueError: If neither output is given, an output is an input (same file
            by real path or ``os.path.samefile``), the device is not available or
            the raster does not fit.
        OutputWriteError: If an output cannot be written (partials are removed).
        FileExistsError: If an output exists and ``overwrite`` is False.
        PermissionError: If an output directory is not writable.
    """
    start = time.perf_counter()
    if output is None and tiles_output is None:
        raise ValueError('give output (GeoTIFF) and/or tiles_output (GeoParquet)')
    out_path = Path(output) if output is not None else None
    tiles_path = Path(tiles_output) if tiles_output is not None else None
    outputs: dict[str, Path | None] = {
        'output': out_path,
        'tiles output': tiles_path,
        'partial output': partial_path(out_path) if out_path else None,
        'partial tiles output': partial_path(tiles_path) if tiles_path else None,
    }
    job = open_job(
        model,
        load_embedder,
        input,
        outputs,
        (out_path, tiles_path),
        info=info,
        wavelengths=wavelengths,
        tile_size=tile_size,
        overlap=overlap,
        batch_size=batch_size,
        device=device,
        overwrite=overwrite,
        progress=progress,
        task_class=task_class,
        patch_grid=True,
    )
    info, raster, p = job.info, job.raster, job.info.patch_size
    height, width = -(-raster.height // p), -(-raster.width // p)
    pooler = _TilePooler(raster, p) if tiles_path is not None else None
    state: dict[str, Any] = {'dim': 0}
    writer: list[AtomicGeoTIFF] = []

    def sink(
        row_off: int,
        acc: NDArray[np.float32],
        weight: NDArray[np.float32],
        valid: NDArray[np.bool_],
    ) -> None:
        state['dim'] = acc.shape[0]
        if out_path is None:
            return
        if not writer:
            spec = OutputSpec(
                height,
                width,
                acc.shape[0],
                'float32',
                raster.crs,
                raster.transform @ Affine.scale(p),
                float('nan'),
                [f'emb_{i}' for i in range(acc.shape[0])],
            )
            tags = {'patch_size': str(p), 'model': info.source}
            writer.append(AtomicGeoTIFF(out_path, spec, tags=tags).__enter__())
        values = acc / np.maximum(weight, np.float32(1e-12))[None]
        values[:, ~valid] = np.nan
        writer[0].write(row_off, values)

    try:
        job.run(sink, 'embed', on_tile=pooler)
        if pooler is not None and tiles_path is not None:
            pooler.write(tiles_path, raster.crs)
        if writer:
            writer[0].close()
            writer[0].commit()
        if tiles_path is not None:
            os.replace(partial_path(tiles_path), tiles_path)
    except BaseException:
        for w in writer:  # no resume for embeddings: drop the partial files
            w.discard()
        if tiles_path is not None:
            partial_path(tiles_path).unlink(missing_ok=True)
        raise
    return EmbeddingResult(
        out_path,
        tiles_path,
        int(state['dim']),
        p,
        len(job.grid),
        time.perf_counter() - start,
    )

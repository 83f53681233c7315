"""The setup shared by every tiled run: checks, model, input raster and grid.

:func:`~torchgeo_spectral.inference.predict_raster` and
:func:`~torchgeo_spectral.inference.export_embeddings` differ only in what they
make of the model's outputs (a class map, an embedding raster); everything before
that, and the run over the tiles itself, is :func:`open_job` and
:meth:`TiledJob.run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor

from .checkpoint import resolve_device
from .engine import ForwardFn, StripSink, TileCallback, run_tiled
from .protocol import ModelInfo
from .raster import RasterInfo, TileReader, input_files, open_input
from .tiling import TileGrid, check_tiling, make_grid
from .writer import BLOCK_SIZE, guard_outputs

__all__ = ['Loader', 'TiledJob', 'open_job']

#: Opens a checkpoint: ``(path, device, task_class) -> (forward, info)``.
Loader = Callable[[Path, torch.device, Any], tuple[ForwardFn, ModelInfo]]


@dataclass(frozen=True)
class TiledJob:
    """A checked tiled run: the model, the input raster, its bands and the grid.

    Attributes:
        forward: The model callable.
        info: What the model expects.
        raster: Input raster metadata.
        band_order: Band indices that sort the bands by wavelength, or None.
        wavelengths: Sorted band centres (nm) fed to the model.
        grid: Tile grid over the raster.
        device: Device of the model.
        unit: Output cell size in input pixels (1, or the patch size when the
            outputs are at patch resolution).
        batch_size: Tiles per model call.
        progress: Show a progress bar.
        inputs: Every file the run reads, by role (for guards and resume).
        checkpoint: The checkpoint path, when the model came from one.
    """

    forward: ForwardFn
    info: ModelInfo
    raster: RasterInfo
    band_order: list[int] | None
    wavelengths: tuple[float, ...]
    grid: TileGrid
    device: torch.device
    unit: int
    batch_size: int
    progress: bool
    inputs: dict[str, Path | None]
    checkpoint: Path | None

    def run(
        self,
        sink: StripSink,
        desc: str,
        start_row: int = 0,
        on_tile: TileCallback | None = None,
    ) -> int:
        """Run the model over every tile (see :func:`.engine.run_tiled`).

        Args:
            sink: Receives finished output rows.
            desc: Progress bar label (the raster's name is appended).
            start_row: Output rows already done (resume).
            on_tile: Optional callback receiving each tile's raw output.

        Returns:
            The number of tiles run through the model.
        """
        return run_tiled(
            TileReader(self.raster.path, self.raster.nodata, self.band_order),
            self.grid,
            self.forward,
            self.wavelengths,
            sink,
            unit=self.unit,
            start_row=start_row,
            batch_size=self.batch_size,
            device=self.device,
            block_rows=BLOCK_SIZE,
            on_tile=on_tile,
            progress=self.progress,
            desc=f'{desc} {self.raster.path.name}',
        )


def open_job(
    model: ForwardFn | str | Path,
    loader: Loader,
    input: str | Path,
    outputs: Mapping[str, Path | None],
    finals: Sequence[Path | None],
    *,
    info: ModelInfo | None,
    wavelengths: Sequence[float] | None,
    tile_size: int,
    overlap: int,
    batch_size: int,
    device: str | torch.device,
    overwrite: bool,
    progress: bool,
    task_class: str | type[Any] | None,
    patch_grid: bool,
) -> TiledJob:
    """Check a tiled run before any work, then open its model, raster and grid.

    Args:
        model: A model callable or the path of a task checkpoint.
        loader: Opens a checkpoint (``load_predictor`` or ``load_embedder``).
        input: Input raster.
        outputs: Every file the run writes, by a name used in messages.
        finals: The final outputs (checked for existence and writability).
        info: What the model expects; read from the checkpoint (or off the model)
            when None.
        wavelengths: Band centres (nm) of the input, or None for its metadata.
        tile_size: Tile side in pixels (a multiple of the model's patch size).
        overlap: Pixels shared by neighbouring tiles.
        batch_size: Tiles per model call.
        device: Torch device to run the model on.
        overwrite: Replace existing outputs.
        progress: Show a progress bar.
        task_class: Task class of a checkpoint that does not record it.
        patch_grid: Lay the tiles on the model's patch grid (outputs at patch
            resolution); otherwise on the pixel grid.

    Returns:
        The checked job.

    Raises:
        ValueError: On bad tiling options, an output that is an input, a device
            that is not available or a raster that does not fit the model.
        FileExistsError: If an output exists and ``overwrite`` is False.
        PermissionError: If an output directory is not writable.
    """
    dev = resolve_device(device)
    check_tiling(tile_size, overlap, batch_size)
    ckpt_path = Path(model) if isinstance(model, str | Path) else None
    inputs: dict[str, Path | None] = {'checkpoint': ckpt_path}
    inputs.update(input_files(Path(input)))
    guard_outputs(outputs, inputs, finals, overwrite)
    if ckpt_path is not None:
        forward, model_info = loader(ckpt_path, dev, task_class)
        info = info or model_info
    else:
        forward = cast(Callable[[Tensor, Tensor], Tensor], model)
        info = info or ModelInfo.for_model(model)
    raster, band_order, wl = open_input(Path(input), wavelengths, info)
    if tile_size % info.patch_size:
        raise ValueError(
            f'tile_size ({tile_size}) must be a multiple of the model patch size '
            f'({info.patch_size})'
        )
    unit = info.patch_size if patch_grid else 1
    grid = make_grid(raster.height, raster.width, tile_size, overlap, unit=unit)
    return TiledJob(
        forward,
        info,
        raster,
        band_order,
        wl,
        grid,
        dev,
        unit,
        batch_size,
        progress,
        inputs,
        ckpt_path,
    )

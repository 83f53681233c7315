"""Class maps (and class probabilities) over georeferenced rasters of any size."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from numpy.typing import NDArray

from .checkpoint import load_predictor, resolve_device
from .engine import run_tiled
from .protocol import ModelInfo, Predictor
from .raster import TileReader, input_files, open_input
from .tiling import check_tiling, make_grid
from .writer import (
    BLOCK_SIZE,
    AtomicGeoTIFF,
    OutputSpec,
    OutputWriteError,
    ProgressFile,
    class_dtype,
    default_colormap,
    guard_outputs,
    partial_path,
)

__all__ = ['PredictionResult', 'predict_raster']


@dataclass(frozen=True)
class PredictionResult:
    """Summary of a :func:`predict_raster` run.

    Attributes:
        output: Path of the class map.
        probabilities: Path of the probability raster, if written.
        num_classes: Number of classes.
        tiles: Tiles in the grid.
        tiles_run: Tiles run through the model in this call (fewer on resume).
        seconds: Wall time of the call.
    """

    output: Path
    probabilities: Path | None
    num_classes: int
    tiles: int
    tiles_run: int
    seconds: float


def _softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    """Softmax over axis 0.

    Args:
        logits: (K, ...) logits.

    Returns:
        Probabilities of the same shape.
    """
    z = logits - logits.max(axis=0, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=0, keepdims=True)
    return z


class _MapSink:
    """Turns blended logits into class-map (and probability) blocks on disk."""

    def __init__(
        self,
        output: Path,
        probabilities: Path | None,
        spec: OutputSpec,
        progress: ProgressFile,
        resume: bool,
        num_classes: int | None,
        class_names: Sequence[str] | None,
        colormap: Mapping[int, tuple[int, int, int, int]] | None,
        prob_nodata: float,
    ) -> None:
        self.output = output
        self.probabilities = probabilities
        self.spec = spec
        self.progress = progress
        self.resume = resume
        self.num_classes = num_classes
        self.class_names = class_names
        self.colormap = colormap
        self.prob_nodata = prob_nodata
        self.maps: list[AtomicGeoTIFF] = []
        self.class_nodata = 0

    def _open(self, channels: int) -> None:
        """Open the partial outputs once the number of classes is known.

        Args:
            channels: Channels of the model output (1: binary, sigmoid).

        Raises:
            ValueError: If the model's channels contradict ``num_classes``.
        """
        k = 2 if channels == 1 else channels
        if self.num_classes is not None and self.num_classes != k:
            raise ValueError(
                f'the model returns {channels} channels but num_classes is '
                f'{self.num_classes}'
            )
        self.num_classes = k
        dtype = class_dtype(k)
        self.class_nodata = int(np.iinfo(dtype).max)
        s = self.spec
        names = list(self.class_names or [f'class {i}' for i in range(k)])
        cmap = dict(self.colormap) if self.colormap else default_colormap(k)
        class_spec = OutputSpec(
            s.height,
            s.width,
            1,
            dtype,
            s.crs,
            s.transform,
            self.class_nodata,
            ['class'],
        )
        tags = {'classes': ','.join(names)}
        self.maps.append(
            AtomicGeoTIFF(self.output, class_spec, self.resume, cmap, tags).__enter__()
        )
        if self.probabilities is not None:
            prob_bands = ['p(class 1)'] if channels == 1 else [f'p({n})' for n in names]
            prob_spec = OutputSpec(
                s.height,
                s.width,
                len(prob_bands),
                'float32',
                s.crs,
                s.transform,
                self.prob_nodata,
                prob_bands,
            )
            self.maps.append(
                AtomicGeoTIFF(self.probabilities, prob_spec, self.resume).__enter__()
            )

    def __call__(
        self,
        row_off: int,
        acc: NDArray[np.float32],
        weight: NDArray[np.float32],
        valid: NDArray[np.bool_],
    ) -> None:
        """Write a strip of finished rows; record progress at each full block row.

        The progress file only ever counts rows of complete, flushed block rows,
        so it stays true whatever happens to the strips written after them.

        Args:
            row_off: First row.
            acc: Weighted logit sums (K, r, W).
            weight: Weight sums (r, W).
            valid: Validity (r, W).
        """
        if not self.maps:
            self._open(acc.shape[0])
        logits = (acc / np.maximum(weight, np.float32(1e-12))[None]).astype(
            np.float32, copy=False
        )
        probs: NDArray[np.float32]
        if acc.shape[0] == 1:
            probs = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
            classes = (logits[0] > 0).astype(np.int64)
        else:
            probs = _softmax(logits) if self.probabilities is not None else logits

            classes = logits.argmax(axis=0)
        classes[~valid] = self.class_nodata
        self.maps[0].write(row_off, classes[None])
        if self.probabilities is not None:
            probs = probs.astype(np.float32, copy=False)
            probs[:, ~valid] = self.prob_nodata
            self.maps[1].write(row_off, probs)
        end = row_off + acc.shape[1]
        if end % BLOCK_SIZE == 0 and end < self.spec.height:
            # a block row is complete: put it on disk, then say so; the last
            # rows are closed and renamed by commit() right after
            for m in self.maps:
                m.flush()
            self.progress.save(end)

    def commit(self) -> None:
        """Complete every output, then rename them onto their final names.

        All are closed (GDAL writes its last blocks) before any is renamed, so a
        failure leaves no output under its final name.
        """
        for m in self.maps:
            m.close()
        for m in self.maps:
            m.commit()
        self.progress.remove()

    def close(self) -> None:
        """Close outputs left open (after an interruption: the partial files stay)."""
        for m in self.maps:
            m.__exit__(None, None, None)

    def discard(self) -> None:
        """After a failed write: delete every partial output, record zero rows."""
        for m in self.maps:
            m.discard()
        for path in (self.output, self.probabilities):
            if path is not None:
                partial_path(path).unlink(missing_ok=True)
        self.progress.reset()


def predict_raster(
    model: Predictor | str | Path,
    input: str | Path,
    output: str | Path,
    *,
    probabilities: str | Path | None = None,
    info: ModelInfo | None = None,
    wavelengths: Sequence[float] | None = None,
    tile_size: int = 64,
    overlap: int = 16,
    batch_size: int = 8,
    device: str | torch.device = 'cpu',
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = True,
    class_names: Sequence[str] | None = None,
    colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
    task_class: str | type[Any] | None = None,
) -> PredictionResult:
    """Predict a class map over a georeferenced raster of any size, tile by tile.

    Tiles of ``tile_size`` pixels overlapping by ``overlap`` come from TorchGeo's
    :class:`~torchgeo.samplers.GriddedPatchSampler`; their logits are blended with
    a Hann window (so seams do not show) and written, block by block as soon as no
    later tile touches them, to a tiled, deflate-compressed GeoTIFF with the
    input's CRS and transform: ``output`` holds the class index (uint8, or uint16
    beyond 255 classes; nodata 255 / 65535 where the input is nodata) with a
    colour table, ``probabilities`` (optional) one float32 band per class.

    Outputs are written under hidden partial names and renamed when complete; an
    interrupted run can be continued with ``resume=True``, which refuses (with a
    one-line reason) when the input raster or the checkpoint changed (size,
    modification time or a hash of sampled blocks) or any option differs. No output
    may be the input raster or the checkpoint (same file by real path or
    ``os.path.samefile``). A failed write (disk full) deletes the partial outputs
    and records zero rows done, so that ``resume=True`` after freeing space starts
    afresh.

    Args:
        model: A predictor callable (see :mod:`~torchgeo_spectral.inference.protocol`)
            or the path of a segmentation task checkpoint.
        input: Input raster (GeoTIFF, ENVI or any GDAL format).
        output: Class-map GeoTIFF to write.
        probabilities: Optional probability GeoTIFF to write.
        info: What the predictor expects (patch size, fixed wavelengths); read from
            the checkpoint when ``model`` is a path.
        wavelengths: Band centres (nm) of the input; by default read from its
            metadata, else the model's fixed wavelengths.
        tile_size: Tile side in pixels (a multiple of the model's patch size).
        overlap: Pixels shared by neighbouring tiles (``< tile_size``).
        batch_size: Tiles per model call.
        device: Torch device to run the model on.
        overwrite: Replace existing outputs.
        resume: Continue an interrupted run with the same settings.
        progress: Show a progress bar.
        class_names: Optional class names (stored as metadata).
        colormap: Colour table (class -> RGBA); a default palette otherwise.
        task_class: Task class of a checkpoint that does not record it (see
            :func:`~torchgeo_spectral.inference.checkpoint.checkpoint_task_class`).

    Returns:
        A summary of the run.

    Raises:
        FileExistsError: If an output exists and ``overwrite`` is False.
        PermissionError: If an output directory is not writable.
        OutputWriteError: If an output cannot be written (partials are removed).
        CheckpointError: If the checkpoint cannot be read or is of another task.
        ValueError: If an output is an input, the raster does not fit the model,
            the device is not available, a resumed run changed, or on bad
            settings.
    """
    start = time.perf_counter()
    dev = resolve_device(device)
    check_tiling(tile_size, overlap, batch_size)
    out_path = Path(output)
    prob_path = Path(probabilities) if probabilities is not None else None
    ckpt_path = Path(model) if isinstance(model, str | Path) else None
    tracker_path = ProgressFile(out_path, {}).path
    outputs: dict[str, Path | None] = {
        'output': out_path,
        'probabilities': prob_path,
        'partial output': partial_path(out_path),
        'partial probabilities': partial_path(prob_path) if prob_path else None,
        'progress file': tracker_path,
    }
    inputs: dict[str, Path | None] = {'checkpoint': ckpt_path}
    inputs.update(input_files(Path(input)))
    guard_outputs(outputs, inputs, (out_path, prob_path), overwrite)

    # a resumed run must use the same checkpoint (or the same declared model)
    model_id = info.source if info is not None else '<callable>'
    if ckpt_path is not None:
        predictor, model_info = load_predictor(ckpt_path, dev, task_class)
        info = info or model_info
        model_id = info.source
    else:
        predictor = cast(Predictor, model)
        info = info or ModelInfo.for_model(model)
    raster, band_order, wl = open_input(Path(input), wavelengths, info)
    if tile_size % info.patch_size:
        raise ValueError(
            f'tile_size ({tile_size}) must be a multiple of the model patch size '
            f'({info.patch_size})'
        )
    grid = make_grid(raster.height, raster.width, tile_size, overlap, unit=1)

    names = class_names or info.class_names
    settings: dict[str, Any] = {
        'shape': [raster.count, raster.height, raster.width],
        'model': model_id,
        'tile_size': tile_size,
        'overlap': overlap,
        'batch_size': batch_size,
        'device': str(dev),
        'wavelengths': list(wl),
        'band_order': band_order,
        'probabilities': str(prob_path.resolve()) if prob_path else None,
        'class_names': list(names) if names else None,
        'colormap': {str(k): list(v) for k, v in colormap.items()}
        if colormap
        else None,
    }
    tracker = ProgressFile(out_path, settings, inputs)
    rows_done = tracker.load() if resume else 0
    for path in (out_path, prob_path):
        if rows_done and path is not None and not partial_path(path).exists():
            raise FileNotFoundError(
                f'cannot resume: partial output {partial_path(path)} is missing; '
                'run without resume to start afresh'
            )
    spec = OutputSpec(
        raster.height, raster.width, 1, 'uint8', raster.crs, raster.transform
    )
    prob_nodata = float('nan') if raster.nodata is None else float(raster.nodata)
    sink = _MapSink(
        out_path,
        prob_path,
        spec,
        tracker,
        resume and rows_done > 0,
        info.num_classes,
        names,
        colormap,
        prob_nodata,
    )
    if not resume:
        tracker.save(0)
    try:
        run = run_tiled(
            TileReader(raster.path, raster.nodata, band_order),
            grid,
            predictor,
            wl,
            sink,
            unit=1,
            start_row=rows_done,
            batch_size=batch_size,
            device=dev,
            block_rows=BLOCK_SIZE,
            progress=progress,
            desc=f'predict {raster.path.name}',
        )
        if sink.maps:
            sink.commit()
        else:  # resumed after the last block was written: only the rename is left
            for path in (out_path, prob_path):
                if path is not None:
                    os.replace(partial_path(path), path)
            tracker.remove()
    except OutputWriteError:
        # disk full or I/O error: free the space, keep the progress file true
        sink.discard()
        raise
    finally:
        sink.close()
    return PredictionResult(
        out_path,
        prob_path,
        sink.num_classes or 0,
        len(grid),
        run,
        time.perf_counter() - start,
    )

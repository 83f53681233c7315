"""Class maps (and class probabilities) over georeferenced rasters of any size."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from .checkpoint import load_predictor
from .job import open_job
from .protocol import ModelInfo, Predictor
from .writer import (
    BLOCK_SIZE,
    AtomicGeoTIFF,
    OutputSpec,
    OutputWriteError,
    ProgressFile,
    class_dtype,
    default_colormap,
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


@dataclass
class _MapSink:
    """Turns blended logits into class-map (and probability) blocks on disk.

    Attributes:
        output: Final path of the class map.
        probabilities: Final path of the probability raster, or None.
        spec: Georeferencing of the input raster (outputs share it).
        progress: Progress sidecar, saved at each complete block row.
        resume: Reopen existing partial outputs.
        num_classes: Declared number of classes, or None (from the model).
        class_names: Class names, or None.
        colormap: Colour table, or None for the default palette.
        prob_nodata: Nodata value of the probabilities.
        maps: Open outputs (class map, then probabilities).
        class_nodata: Nodata value of the class map (set when opened).
    """

    output: Path
    probabilities: Path | None
    spec: OutputSpec
    progress: ProgressFile
    resume: bool
    num_classes: int | None
    class_names: Sequence[str] | None
    colormap: Mapping[int, tuple[int, int, int, int]] | None
    prob_nodata: float
    maps: list[AtomicGeoTIFF] = field(default_factory=list)
    class_nodata: int = 0

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
    out_path = Path(output)
    prob_path = Path(probabilities) if probabilities is not None else None
    tracker_path = ProgressFile(out_path, {}).path
    outputs: dict[str, Path | None] = {
        'output': out_path,
        'probabilities': prob_path,
        'partial output': partial_path(out_path),
        'partial probabilities': partial_path(prob_path) if prob_path else None,
        'progress file': tracker_path,
    }
    job = open_job(
        model,
        load_predictor,
        input,
        outputs,
        (out_path, prob_path),
        info=info,
        wavelengths=wavelengths,
        tile_size=tile_size,
        overlap=overlap,
        batch_size=batch_size,
        device=device,
        overwrite=overwrite,
        progress=progress,
        task_class=task_class,
        patch_grid=False,
    )
    # a resumed run must use the same checkpoint (or the same declared model)
    declared = info is not None or job.checkpoint is not None
    model_id = job.info.source if declared else '<callable>'
    info, raster, wl = job.info, job.raster, job.wavelengths
    names = class_names or info.class_names
    settings: dict[str, Any] = {
        'shape': [raster.count, raster.height, raster.width],
        'model': model_id,
        'tile_size': tile_size,
        'overlap': overlap,
        'batch_size': batch_size,
        'device': str(job.device),
        'wavelengths': list(wl),
        'band_order': job.band_order,
        'probabilities': str(prob_path.resolve()) if prob_path else None,
        'class_names': list(names) if names else None,
        'colormap': {str(k): list(v) for k, v in colormap.items()}
        if colormap
        else None,
    }
    tracker = ProgressFile(out_path, settings, job.inputs)
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
        run = job.run(sink, 'predict', start_row=rows_done)
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
        len(job.grid),
        run,
        time.perf_counter() - start,
    )

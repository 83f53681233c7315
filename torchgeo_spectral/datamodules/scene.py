"""One scene and its label map: pretraining on every pixel, few-label fine-tuning.

:class:`SceneDataModule` is the front door of the core workflow: a researcher
with one hyperspectral scene and a label map with few labels pretrains on every
pixel of the scene (labels unused, ``mode='pretrain'``), then fine-tunes on a
label budget drawn inside the training blocks of a spatially disjoint split
(``mode='finetune'``), and tests on the test blocks.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import torch
from affine import Affine
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities.types import EVAL_DATALOADERS
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset
from torchgeo.datamodules import NonGeoDataModule
from torchgeo.datasets.utils import Sample

from ..datasets import collate_spectral
from ..datasets import scenes as scene_classes
from ..datasets.file_scene import FileScene
from ..datasets.scene import HyperspectralScene
from ..samplers.blocks import TRAIN
from ..samplers.splits import (
    SpatialSplit,
    SplitSettings,
    _json_budget,
    as_budget,
    indices_for_pixels,
)
from ._normalize import augmentations
from .statistics import BandStatistics

__all__ = [
    'SceneDataModule',
    'SceneMapWriter',
    'ScenePixels',
    'check_window',
    'resolve_scene_class',
]

#: A label budget as the CLI takes it: a count per class, a fraction, a dict, or
#: the text of ``torchgeo-spectral split --budget`` (``'1:10,2:5'``).
BudgetArg = int | float | dict[int, int] | str | None


def resolve_scene_class(
    scene: str | type[HyperspectralScene],
) -> type[HyperspectralScene]:
    """The scene class named by a class, a class path or a benchmark name.

    Args:
        scene: A :class:`HyperspectralScene` subclass, its dotted class path
            (``'my_package.scenes.MyScene'``), or the name of a classic scene
            (``'IndianPines'``).

    Returns:
        The class.

    Raises:
        ValueError: If the name is unknown or not a ``HyperspectralScene``.
    """
    found: object = scene
    if isinstance(scene, str):
        if '.' in scene:
            module_name, _, name = scene.rpartition('.')
            try:
                found = getattr(importlib.import_module(module_name), name)
            except (ImportError, AttributeError) as error:
                raise ValueError(f'cannot import scene {scene!r}: {error}') from error
        elif scene in scene_classes.__all__:
            found = getattr(scene_classes, scene)
        else:
            msg = (
                f'unknown scene {scene!r}; choose from {list(scene_classes.__all__)} '
                'or give a HyperspectralScene subclass or its class path'
            )
            raise ValueError(msg)
    if not (isinstance(found, type) and issubclass(found, HyperspectralScene)):
        msg = f'scene {scene!r} is not a HyperspectralScene subclass'
        raise ValueError(msg)  # noqa: TRY004 (a configuration value, not a type)
    return found


def check_window(window_size: int, patch_size: int) -> None:
    """Check that a labelled window and the model's patch size fit together.

    The labelled pixel sits at the centre of an odd window; for the model's
    centre token to be centred on it, the window must be ``p`` times an odd
    number of tokens (or ``p = 1``).

    Args:
        window_size: Side of the window around a labelled pixel.
        patch_size: The model's spatial patch size ``p``.

    Raises:
        ValueError: Naming both sizes and sizes that would fit.
    """
    if patch_size < 1 or window_size < 1:
        msg = f'window_size ({window_size}) and patch_size ({patch_size}) must be >= 1'
        raise ValueError(msg)
    tokens, rest = divmod(window_size, patch_size)
    if rest or tokens % 2 == 0 or window_size % 2 == 0:
        fits = ', '.join(str(patch_size * k) for k in (1, 3, 5, 7))
        msg = (
            f'window_size={window_size} does not fit patch_size={patch_size}: the '
            'labelled pixel must sit at the centre of the centre token, so the '
            f'window must be patch_size times an odd number ({fits}, ...)'
        )
        if patch_size % 2 == 0:
            msg += '; an even patch_size has no centre pixel, use an odd one'
        raise ValueError(msg)


#: How :class:`SceneDataModule` scales the cube: ``'band'`` z-scores every band;
#: ``'scene'`` divides every band by one number, the mean valid value, which keeps
#: the spectral shape and brightness (the scaling of the shipped checkpoint's
#: pretraining, ``MixedCubeFolderDataModule(scaling='sensor')``).
Normalization = Literal['band', 'scene']


def pixel_statistics(
    image: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
    wavelength: Tensor,
    eps: float = 1e-6,
    normalization: Normalization = 'band',
    bands_per_chunk: int = 16,
) -> BandStatistics:
    """Normalization statistics over the pixels of a mask, ignoring NaN and inf (nodata).

    The pixels are copied to float64 a few bands at a time: a copy of every
    band would need twice the cube's memory again, several GB for a large
    scene.

    Args:
        image: ``(C, H, W)`` cube.
        mask: ``(H, W)`` pixels to use.
        wavelength: ``(C,)`` band centres, stored with the statistics.
        eps: Standard deviations below this (constant bands) become 1.
        normalization: ``'band'``: per-band mean and std; ``'scene'``: mean 0
            and, for every band, the mean of all valid values as the scale.
        bands_per_chunk: Bands copied at once.

    Returns:
        The statistics.

    Raises:
        ValueError: If the mask selects no pixel, or with ``'scene'`` when the
            valid values average to about zero (nothing to scale by).
    """
    if not mask.any():
        raise ValueError('no pixels to compute the normalization statistics from')
    num_bands = image.shape[0]
    count = np.zeros(num_bands, dtype=np.int64)
    total, mean, std = (np.zeros(num_bands) for _ in range(3))
    for start in range(0, num_bands, bands_per_chunk):
        chunk = slice(start, start + bands_per_chunk)
        values = image[chunk][:, mask].astype(np.float64)
        finite = np.isfinite(values)
        count[chunk] = finite.sum(axis=1)
        # inf is nodata as NaN is (normalize_in_place zeroes both); a mean over
        # it would be inf and scale every value of the scene to 0
        values[~finite] = np.nan  # in place: values is already a copy
        if normalization == 'scene':
            total[chunk] = np.nansum(values, axis=1)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', RuntimeWarning)  # all-NaN bands
                mean[chunk] = np.nanmean(values, axis=1)
                std[chunk] = np.nanstd(values, axis=1)
    valid = count > 0
    if normalization == 'scene':
        level = float(total.sum() / count.sum()) if valid.any() else 0.0
        if not abs(level) > eps:
            msg = (
                f"normalization='scene' divides by the mean valid value, found "
                f"{level:g}; use normalization='band' for data centred on zero"
            )
            raise ValueError(msg)
        return BandStatistics(
            torch.zeros(num_bands, dtype=torch.float32),
            torch.full((num_bands,), level, dtype=torch.float32),
            torch.tensor(count, dtype=torch.float64),
            wavelength.clone(),
        )
    mean = np.where(valid, mean, 0.0)
    std = np.where(valid & (std >= eps), std, 1.0)
    return BandStatistics(
        torch.tensor(mean, dtype=torch.float32),
        torch.tensor(std, dtype=torch.float32),
        torch.tensor(count, dtype=torch.float64),
        wavelength.clone(),
    )


def normalize_in_place(scene: HyperspectralScene, stats: BandStatistics) -> None:
    """Normalize a scene's in-memory cube once, nodata (NaN) becoming 0.

    Windows are cut from the normalized cube and padded with 0 beyond the
    scene border, so the padding is the band mean, not a fake spectrum.

    Args:
        scene: The scene; its ``image`` is replaced.
        stats: Per-band statistics.
    """
    mean = stats.mean.numpy().astype(np.float32)[:, None, None]
    std = stats.std.numpy().astype(np.float32)[:, None, None]
    # in place: the cube is the scene's own copy, and a scene of several GB
    # has no room for two more
    image = scene.image
    image -= mean
    image /= std
    np.nan_to_num(image, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


class ScenePixels(Dataset[Sample]):
    """Every pixel of a scene with data, labelled or not, as a window centred on it.

    Item ``i`` is the pixel ``divmod(indices[i], W)``: the pixels with a finite
    value in some band, row-major, so that predictions in loader order fill the
    map row by row (see :class:`SceneMapWriter`). Pixels of no data (the grid
    around an EMIT swath, a raster's nodata) are not classified at all.
    """

    def __init__(self, scene: HyperspectralScene, window_size: int) -> None:
        """Wrap a loaded scene.

        Args:
            scene: The scene (its in-memory cube).
            window_size: Odd window side.
        """
        self.scene = scene
        self.window_size = window_size
        self.height, self.width = scene.gt.shape
        #: Row-major indices of the pixels with data.
        self.indices = np.flatnonzero(~scene.nodata.reshape(-1))

    def __len__(self) -> int:
        """Number of pixels with data.

        Returns:
            At most ``H * W``.
        """
        return int(self.indices.size)

    def __getitem__(self, index: int) -> Sample:
        """The window centred on one pixel.

        Args:
            index: Index into :attr:`indices`.

        Returns:
            ``image`` and ``wavelength``.
        """
        row, col = divmod(int(self.indices[index]), self.width)
        half = self.window_size // 2
        image, _ = self.scene._window(row - half, col - half, self.window_size)
        return {'image': image, 'wavelength': self.scene.wavelengths.clone()}


class SceneDataModule(NonGeoDataModule):
    """One scene and its label map, for pretraining and few-label fine-tuning.

    The scene is a :class:`~torchgeo_spectral.datasets.HyperspectralScene`
    subclass (``scene=``: class, class path or classic name, with ``root``) or a
    cube and label map given as files (``image=``, ``labels=``, ``wavelengths=``:
    see :class:`~torchgeo_spectral.datasets.FileScene`), georeferenced or not.

    ``mode='pretrain'`` serves every pixel of the scene (labels unused) as
    ``tile_size`` tiles every ``tile_stride`` pixels, with statistics from every
    pixel. ``mode='finetune'`` makes (or loads from ``split``) a spatially
    disjoint :class:`~torchgeo_spectral.samplers.SpatialSplit` whose guard band
    fits ``window_size`` (or tests on the pixels of ``test_labels``, a
    benchmark's own test map), keeps ``budget`` training labels (a count per class,
    capped at what a class has with a warning; a fraction; or ``{class:
    count}``), and serves ``window_size`` windows centred on the labelled pixels
    with ``label`` 0..K-1; its statistics come from the pixels of the training
    region only. Prediction (``torchgeo-spectral predict``) runs over every
    pixel of the scene (:class:`ScenePixels`); :class:`SceneMapWriter` writes
    the class map. Either way, the in-memory cube is normalized once (nodata
    becomes 0) and windows are padded AFTER normalization: pixels outside the
    scene are 0, the band mean, not a fake spectrum. :attr:`statistics` holds
    the statistics; the device-side pipeline only flips training batches.
    """

    def __init__(
        self,
        image: str | None = None,
        labels: str | None = None,
        wavelengths: str | list[float] | None = None,
        scene: str | type[HyperspectralScene] | None = None,
        root: str = 'data',
        mode: Literal['finetune', 'pretrain'] = 'finetune',
        window_size: int = 9,
        patch_size: int = 1,
        tile_size: int = 32,
        tile_stride: int | None = None,
        split: str | None = None,
        block_size: int = 32,
        test_fraction: float = 0.3,
        val_fraction: float = 0.0,
        budget: BudgetArg = None,
        seed: int = 0,
        batch_size: int = 32,
        predict_batch_size: int = 256,
        num_workers: int = 0,
        augment: bool = True,
        normalization: Normalization = 'band',
        image_key: str | None = None,
        labels_key: str | None = None,
        test_labels: str | None = None,
        test_labels_key: str | None = None,
        bad_bands: list[int | list[float]] | None = None,
        class_names: list[str] | None = None,
        num_classes: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize a new SceneDataModule.

        Args:
            image: Cube file (GeoTIFF, ENVI, ``.mat``, ``.npy``); or use ``scene``.
            labels: Label map file (0 = unlabelled, 1..K classes), or label
                polygons over a georeferenced cube (with ``labels_key``).
            wavelengths: Band centres of ``image``: a text/CSV file, a sensor
                name or a list (nm); None reads them from the file's metadata.
            scene: A ``HyperspectralScene`` subclass, its class path or a classic
                scene name, read from ``root`` (instead of ``image``/``labels``).
            root: Folder of a ``scene``'s files.
            mode: ``'finetune'`` (labelled windows) or ``'pretrain'`` (every
                pixel, labels unused).
            window_size: Odd side of the windows centred on labelled pixels.
            patch_size: The model's spatial patch size; ``window_size`` must be
                ``patch_size`` times an odd number, ``tile_size`` a multiple.
            tile_size: Side of the pretraining tiles.
            tile_stride: Step between pretraining tiles (half a tile when None).
            split: ``.npz`` file of a saved split: loaded (and checked against
                the scene) when it exists, else made and saved there.
            block_size: Block side of the spatial split, in pixels.
            test_fraction: Fraction of labelled pixels in test blocks.
            val_fraction: Fraction of the other labelled pixels in validation
                blocks (0 for no validation split).
            budget: Training labels: an int per class, a float fraction, a
                ``{class: count}`` dict, the same as text (``'10'``,
                ``'1:10,2:5'``, as ``torchgeo-spectral split --budget``), or
                None for all training pixels.
            seed: Seed of the split and of the budget draw.
            batch_size: Samples per batch.
            predict_batch_size: Pixels per batch when predicting every pixel of
                the scene (larger than ``batch_size``: prediction holds no
                gradients, and fewer batches are faster).
            num_workers: Data loader workers.
            augment: Random flips of training batches.
            normalization: ``'band'`` (default): z-score every band;
                ``'scene'``: divide the cube by its mean valid value, keeping
                spectral shape and brightness (use it with
                ``SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION``, which was
                pretrained so). Statistics come from the training region.
            image_key: Variable of the cube in a ``.mat`` file.
            labels_key: Variable of the label map in a ``.mat`` file
                (``'GT.gt'`` for a struct's field), or the class column of
                label polygons (GeoPackage, shapefile, ...).
            test_labels: Label map of the test pixels that came with the scene
                (a benchmark's official split, e.g. Houston 2013's): they are
                the test set as given, ``test_fraction`` is unused, and
                validation blocks and the budget come from ``labels``.
            test_labels_key: Variable of the test map in a ``.mat`` file.
            bad_bands: Bands to leave out, such as water-absorption bands:
                0-based indices in file order or ``[low, high]`` ranges in nm
                (``[[1340, 1460], [1790, 1960]]``); bands an ENVI header's
                ``bbl`` flags are left out as well.
            class_names: Names of classes 1..K (labels above K are errors).
            num_classes: K, when no names are given (default: largest label).
            **kwargs: Passed to a ``scene`` class (``download``, ``checksum``).

        Raises:
            ValueError: For a mode that is not known, both or neither of
                ``image`` and ``scene``, fine-tuning without ``labels``, or
                windows and patches that do not fit.
        """
        if mode not in ('finetune', 'pretrain'):
            raise ValueError(f"mode must be 'finetune' or 'pretrain', got {mode!r}")
        if normalization not in ('band', 'scene'):
            msg = f"normalization must be 'band' or 'scene', got {normalization!r}"
            raise ValueError(msg)
        if (image is None) == (scene is None):
            raise ValueError('give either image= (and labels=) or scene=, not both')
        if test_labels is not None and image is None:
            msg = (
                f'test_labels={test_labels} needs the scene as files (image=, '
                "labels=, and wavelengths= a classic scene's name such as "
                "'houston2013'), not scene="
            )
            raise ValueError(msg)
        if mode == 'finetune':
            if image is not None and labels is None:
                msg = f'mode finetune needs labels= (a label map for {image})'
                raise ValueError(msg)
            check_window(window_size, patch_size)
        if mode == 'pretrain' and tile_size % patch_size:
            msg = f'tile_size={tile_size} must be a multiple of patch_size={patch_size}'
            raise ValueError(msg)
        if scene is not None:
            dataset_class: type[HyperspectralScene] = resolve_scene_class(scene)
            kwargs = {'root': root, 'bad_bands': bad_bands, **kwargs}
        else:
            dataset_class = FileScene
            kwargs = {
                'image': image,
                'labels': labels,
                'wavelengths': wavelengths,
                'test_labels': test_labels,
                'image_key': image_key,
                'labels_key': labels_key,
                'test_labels_key': test_labels_key,
                'bad_bands': bad_bands,
                'class_names': class_names,
                'num_classes': num_classes,
                **kwargs,
            }
        super().__init__(dataset_class, batch_size, num_workers, **kwargs)
        self.mode = mode
        self.normalization: Normalization = normalization
        self.window_size = window_size
        self.patch_size = patch_size
        self.tile_size = tile_size
        self.tile_stride = tile_stride or max(patch_size, tile_size // 2)
        self.split_path = None if split is None else Path(split)
        #: How :meth:`setup` draws the split when no saved one is given.
        self.split_settings = SplitSettings(
            patch_size=window_size,
            block_size=block_size,
            test_fraction=test_fraction,
            val_fraction=val_fraction,
            budget=as_budget(budget),
            seed=seed,
        )
        # TorchGeo's loaders take <split>_batch_size over batch_size
        self.predict_batch_size = predict_batch_size
        self.augment = augment
        self.collate_fn = collate_spectral
        self.scene: HyperspectralScene | None = None
        self.split: SpatialSplit | None = None
        self.statistics: BandStatistics | None = None

    # ----------------------------------------------------------------- scene
    def _build_scene(self) -> HyperspectralScene:
        """Load the scene once, in the layout of the mode.

        Returns:
            The scene (raw values; :meth:`setup` normalizes them in memory).
        """
        if self.mode == 'pretrain':
            layout: dict[str, Any] = {
                'mode': 'tile',
                'tile_size': self.tile_size,
                'tile_stride': self.tile_stride,
            }
        else:
            layout = {'mode': 'patch', 'patch_size': self.window_size}
        scene_class = cast(type[HyperspectralScene], self.dataset_class)
        return scene_class(**self.kwargs, **layout, pad_value=0.0)

    def _make_split(self, scene: HyperspectralScene, stage: str) -> SpatialSplit:
        """Load the saved split, or make one and save it when a path is given.

        Args:
            scene: The scene.
            stage: The Lightning stage; a saved split whose budget differs from
                ``budget`` is only reported when fitting, the one stage that
                trains on the budget's labels (``test`` and ``predict`` runs
                rarely repeat the fit's ``--data.init_args.budget``).

        Returns:
            The split.

        Raises:
            ValueError: If a saved split was made for another scene or for
                smaller windows, or the budget does not fit the training region.
        """
        path = self.split_path
        test_mask = scene.test_mask  # from a FileScene's test_labels=
        if path is not None and path.exists():
            split = SpatialSplit.load(path, labels=scene.gt, test_mask=test_mask)
            made_for = int(split.params.get('patch_size', 0))
            if made_for < self.window_size:
                msg = (
                    f'split file {path} was made for windows of {made_for} px, so '
                    f'its guard band is too narrow for window_size='
                    f'{self.window_size}; make a split with --window-size '
                    f'{self.window_size} (torchgeo-spectral split)'
                )
                raise ValueError(msg)
            stored = split.params.get('budget')
            budget = self.split_settings.budget
            if stage == 'fit' and budget is not None and stored != _json_budget(budget):
                warnings.warn(
                    f'split file {path} keeps the training labels of its own budget '
                    f'({stored}); budget={budget} is not applied (delete the '
                    'file or name another one to draw a new budget)',
                    UserWarning,
                    stacklevel=2,
                )
            return split
        split = self.split_settings.draw(scene.gt, scene.labels_path, test_mask)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            split.save(path)
        return split

    def _check_model_classes(self, scene: HyperspectralScene) -> None:
        """Refuse a model whose ``num_classes`` is not the label map's K.

        Before any batch, so that a forgotten ``--model.init_args.num_classes``
        is named with the label file and its K, not met later as a batch of
        labels out of range (too few outputs) or as classes that never occur
        (too many).

        Args:
            scene: The loaded scene.

        Raises:
            ValueError: Naming the label file, its classes and the model's count.
        """
        trainer = self.trainer
        model = None if trainer is None else trainer.lightning_module
        wanted = None if model is None else model.hparams.get('num_classes')
        found = len(scene.class_names)
        if wanted is None or int(wanted) == found:
            return
        msg = (
            f'the model has num_classes={wanted}, but the label map '
            f'{scene.labels_path} has {found} classes (labels 1..{found}); set '
            f'--model.init_args.num_classes {found}'
        )
        raise ValueError(msg)

    def setup(self, stage: str) -> None:
        """Load the scene, make or load the split, and set the normalization.

        Args:
            stage: ``'fit'``, ``'validate'``, ``'test'`` or ``'predict'``.
        """
        if self.scene is None:
            self.scene = self._build_scene()
        scene = self.scene
        if self.mode == 'pretrain':
            self.train_dataset = scene
            self.val_dataset = scene
            self.test_dataset = scene
            self.predict_dataset = scene
            train_pixels = np.ones(scene.gt.shape, dtype=bool)
        else:
            self._check_model_classes(scene)
            if self.split is None:
                self.split = self._make_split(scene, stage)
            split = self.split
            rows, cols = scene.pixels[:, 0], scene.pixels[:, 1]
            index = indices_for_pixels(split, rows, cols)
            self.train_dataset = Subset(scene, index['train'].tolist())
            self.val_dataset = (
                Subset(scene, index['val'].tolist()) if len(index['val']) else None
            )
            self.test_dataset = Subset(scene, index['test'].tolist())
            self.predict_dataset = ScenePixels(scene, self.window_size)
            train_pixels = split.region == TRAIN
        if self.statistics is None:
            self.statistics = pixel_statistics(
                scene.image,
                train_pixels,
                scene.wavelengths,
                normalization=self.normalization,
            )
            normalize_in_place(scene, self.statistics)
            identity = BandStatistics(
                torch.zeros_like(self.statistics.mean),
                torch.ones_like(self.statistics.std),
                self.statistics.count,
                self.statistics.wavelength,
            )
            self.train_aug, self.aug = augmentations(identity, self.augment)

    def train_dataloader(self) -> DataLoader[Sample]:
        """Shuffled training batches that never drop a whole few-label set.

        TorchGeo drops the last incomplete batch; with 23 labels and batches
        of 32 that would leave nothing, so the last batch is dropped only when
        at least one full batch remains.

        Returns:
            The loader.

        Raises:
            RuntimeError: Before :meth:`setup`.
        """
        dataset = self.train_dataset
        if dataset is None:
            raise RuntimeError('call setup() first')
        return self._loader(dataset, train=True)

    def val_dataloader(self) -> EVAL_DATALOADERS:
        """Validation batches, or none when the split has no validation blocks.

        Returns:
            A data loader, or an empty list (Lightning then skips validation).
        """
        if self.val_dataset is None:
            return []
        return self._loader(self.val_dataset)

    def _loader(
        self, dataset: Dataset[Sample], train: bool = False
    ) -> DataLoader[Sample]:
        """A loader: in dataset order, or shuffled for training.

        Args:
            dataset: The dataset.
            train: Shuffle, and drop the last incomplete batch when at least
                one full batch remains.

        Returns:
            The loader.
        """
        size = len(dataset)  # type: ignore[arg-type]
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=train,
            num_workers=self.num_workers,
            collate_fn=self.collate_fn,
            drop_last=train and size > self.batch_size,
        )

    @property
    def class_names(self) -> Sequence[str]:
        """Names of classes 1..K of the loaded scene.

        Raises:
            RuntimeError: Before :meth:`setup`.
        """
        if self.scene is None:
            raise RuntimeError('call setup() first')
        return tuple(self.scene.class_names)


class SceneMapWriter(BasePredictionWriter):
    """Write the class map of a scene predicted pixel by pixel, as a GeoTIFF.

    Add it to ``trainer.callbacks`` of ``torchgeo-spectral predict`` with a
    :class:`SceneDataModule` in ``'finetune'`` mode: every pixel's window is
    classified and the map holds classes ``1..K`` (the label raster's coding;
    0, "no data", where the cube has no value in any band), on the cube's grid
    (transform and CRS copied when the cube is georeferenced).
    """

    def __init__(self, output: str, overwrite: bool = False) -> None:
        """Initialize a new SceneMapWriter.

        Args:
            output: The class-map GeoTIFF to write.
            overwrite: Replace an existing file.
        """
        super().__init__(write_interval='batch')
        self.output = Path(output)
        self.overwrite = overwrite
        self.classes: npt.NDArray[np.int64] | None = None
        #: Pixels classified so far (the loader is in pixel order).
        self._filled = 0

    def on_predict_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Refuse to replace an existing map, or the cube, before predicting.

        Also turns off Lightning's returned predictions (``trainer.predict``
        then returns None): the map holds them.

        Args:
            trainer: The trainer.
            pl_module: The task.

        Raises:
            FileExistsError: If ``output`` exists and ``overwrite`` is False, or
                is the scene's own cube.
        """
        # the map is the result: Lightning's list of every batch's outputs is
        # not wanted, and holding a small tensor per batch grew the process by
        # MBs a batch (6.5 GB for a 349 x 1905 px scene in batches of 256)
        trainer.predict_loop.return_predictions = False
        source = self._dataset(trainer).scene.image_path
        if self.output.exists() and self.output.resolve() == source.resolve():
            raise FileExistsError(f'{self.output} is the input cube; choose another')
        if self.output.exists() and not self.overwrite:
            msg = f'{self.output} exists; set overwrite: true to replace it'
            raise FileExistsError(msg)

    def _dataset(self, trainer: Trainer) -> ScenePixels:
        """The pixels being predicted.

        Args:
            trainer: The trainer.

        Returns:
            The dataset.

        Raises:
            TypeError: If the data module does not predict a scene's pixels.
        """
        datamodule = getattr(trainer, 'datamodule', None)
        dataset = getattr(datamodule, 'predict_dataset', None)
        if not isinstance(dataset, ScenePixels):
            msg = 'SceneMapWriter needs a SceneDataModule in finetune mode'
            raise TypeError(msg)
        return dataset

    def write_on_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        prediction: Any,
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        """Store the classes of one batch of pixels.

        Args:
            trainer: The trainer.
            pl_module: The task.
            prediction: ``(B, K)`` class probabilities or logits.
            batch_indices: Unused (the loader is in pixel order).
            batch: The batch.
            batch_idx: Index of the batch.
            dataloader_idx: Index of the loader.
        """
        dataset = self._dataset(trainer)
        if self.classes is None:
            self.classes = np.zeros(dataset.height * dataset.width, dtype=np.int64)
            self._filled = 0
        size = len(batch['image'])
        predicted = torch.as_tensor(prediction).argmax(dim=1).cpu().numpy()
        pixels = dataset.indices[self._filled : self._filled + size]
        self.classes[pixels] = predicted + 1
        self._filled += size

    def on_predict_epoch_end(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> None:
        """Write the map once every pixel is predicted.

        Args:
            trainer: The trainer.
            pl_module: The task.
        """
        if self.classes is None:
            return
        dataset = self._dataset(trainer)
        shape = (dataset.height, dataset.width)
        write_class_map(self.output, self.classes.reshape(shape), dataset.scene)
        self.classes = None


def write_class_map(
    path: Path, classes: npt.NDArray[np.int64], scene: HyperspectralScene
) -> None:
    """Write a class map on a scene's grid (georeferenced when the cube is).

    Pixels the scene has no data for (:attr:`HyperspectralScene.nodata
    <torchgeo_spectral.datasets.HyperspectralScene.nodata>`: no finite value in
    any band) are written as 0 whatever class they were given. The map says
    what its values are: the tag ``classes`` names values ``0..K`` (``no
    data``, then the scene's class names), and a colour table gives each class
    the colour of the scene's figures (0 transparent), so that GIS software
    shows it as such. It is written as ``predict-map`` writes its maps
    (:class:`~torchgeo_spectral.inference.writer.AtomicGeoTIFF`: under a
    partial name renamed when complete).

    Args:
        path: The GeoTIFF to write.
        classes: ``(H, W)`` classes, 0 = no data.
        scene: The scene.
    """
    from matplotlib.colors import to_rgba_array

    from ..inference.writer import AtomicGeoTIFF, OutputSpec

    # SceneMapWriter leaves them 0 already; other callers may pass any map
    classes = np.where(scene.nodata, 0, classes)
    dtype = 'uint8' if classes.max(initial=0) < 256 else 'uint16'
    transform, crs = scene.georeference or (Affine.identity(), None)
    spec = OutputSpec(
        classes.shape[0], classes.shape[1], 1, dtype, crs, transform, 0, ['class']
    )
    names = ['no data', *scene.class_names]
    rgba = np.round(to_rgba_array(scene.cmap.colors) * 255).astype(int)
    colormap: dict[int, tuple[int, int, int, int]] = {0: (0, 0, 0, 0)}
    for value, (red, green, blue, alpha) in enumerate(rgba[1 : len(names)], 1):
        colormap[value] = (int(red), int(green), int(blue), int(alpha))
    path.parent.mkdir(parents=True, exist_ok=True)
    with AtomicGeoTIFF(
        path, spec, colormap=colormap, tags={'classes': ','.join(names)}
    ) as dst:
        try:
            dst.write(0, classes[None].astype(dtype))
            dst.commit()
        except BaseException:
            dst.discard()  # nothing to resume: no partial file stays
            raise

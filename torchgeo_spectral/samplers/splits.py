"""Spatially disjoint train/val/test splits of a labelled scene.

The split works on a plain label map (``(H, W)`` integers, ``0`` = unlabelled), so
it serves any scene: a benchmark cube such as Indian Pines, or a label raster read
with rasterio. The scene is cut into blocks, blocks get roles, and a guard band is
carved between regions of different roles so that no test patch overlaps a
training patch (see :mod:`torchgeo_spectral.samplers.blocks` for the exact rule).
A label budget then keeps a few training pixels per class.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from .blocks import (
    GUARD,
    ROLE_NAMES,
    TEST,
    TRAIN,
    VAL,
    Pattern,
    assign_block_roles,
    block_grid,
    block_ids,
    erosion_size,
    guard_width,
    to_pair,
)

#: Pixel indices as ``(rows, cols)``; ``labels[index]`` selects the pixels.
PixelIndex = tuple[NDArray[np.intp], NDArray[np.intp]]
#: A label budget: fraction of training pixels per class, count for every class,
#: or count per class.
Budget = float | int | Mapping[int, int] | None

_SPLIT_NAMES = ('train', 'val', 'test')
#: What to do about a saved split that does not fit the scene.
_ANOTHER_SPLIT = (
    'name another split file (--data.init_args.split) to draw one for this '
    'scene, or delete this one'
)


def as_label_map(labels: ArrayLike) -> NDArray[np.int64]:
    """Validate a label map and return it as int64.

    Args:
        labels: ``(H, W)`` class indices, ``0`` = unlabelled; floats are accepted
            when they hold whole numbers (as label GeoTIFFs often do).

    Returns:
        The label map as an int64 array.

    Raises:
        ValueError: If the map is not 2-D, not finite, not integral or negative.
    """
    array = np.asarray(labels)
    if array.ndim != 2:
        msg = f'labels must be a 2-D (H, W) map, got shape {array.shape}'
        raise ValueError(msg)
    if array.dtype.kind == 'f':
        if not np.isfinite(array).all() or not np.array_equal(array, np.round(array)):
            msg = 'labels must hold finite whole numbers (0 = unlabelled)'
            raise ValueError(msg)
    elif array.dtype.kind not in 'iub':
        msg = f'labels must be numeric, got dtype {array.dtype}'
        raise ValueError(msg)
    out = array.astype(np.int64)
    if out.size and out.min() < 0:
        msg = 'labels must be >= 0 (0 = unlabelled); map nodata to 0 first'
        raise ValueError(msg)
    return out


def scene_fingerprint(labels: ArrayLike) -> str:
    """Short SHA-256 fingerprint of a label map (shape and values).

    Args:
        labels: ``(H, W)`` label map.

    Returns:
        The first 16 hexadecimal digits of the digest.
    """
    array = np.ascontiguousarray(as_label_map(labels))
    digest = hashlib.sha256(repr(array.shape).encode())
    digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _indices(mask: NDArray[np.bool_]) -> PixelIndex:
    rows, cols = np.nonzero(mask)
    return rows.astype(np.intp), cols.astype(np.intp)


@dataclass(frozen=True, eq=False)
class SpatialSplit:
    """A spatially disjoint split of one labelled scene.

    Attributes:
        shape: Scene height and width in pixels.
        fingerprint: :func:`scene_fingerprint` of the label map it was made for.
        train: Training pixels ``(rows, cols)`` after the label budget.
        val: Validation pixels (empty when no validation split was asked for).
        test: Test pixels.
        region: ``(H, W)`` uint8 role map after the guard band: 0 guard,
            1 train, 2 val, 3 test (labelled or not).
        blocks: ``(block_rows, block_cols)`` role of every block before the guard.
        params: The parameters that made the split (JSON-serialisable).
    """

    shape: tuple[int, int]
    fingerprint: str
    train: PixelIndex
    val: PixelIndex
    test: PixelIndex
    region: NDArray[np.uint8]
    blocks: NDArray[np.uint8]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def guard_mask(self) -> NDArray[np.bool_]:
        """``(H, W)`` mask of the guard band."""
        return np.asarray(self.region == GUARD)

    def indices(self, name: str) -> PixelIndex:
        """Pixel indices of one split.

        Args:
            name: ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            ``(rows, cols)`` of the pixels of that split.

        Raises:
            ValueError: If the name is unknown.
        """
        if name not in _SPLIT_NAMES:
            msg = f'split name must be one of {_SPLIT_NAMES}, got {name!r}'
            raise ValueError(msg)
        index: PixelIndex = getattr(self, name)
        return index

    def mask(self, name: str) -> NDArray[np.bool_]:
        """``(H, W)`` boolean mask of the pixels of one split.

        Args:
            name: ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            The mask.
        """
        out = np.zeros(self.shape, dtype=bool)
        out[self.indices(name)] = True
        return out

    def flat_indices(self, name: str) -> NDArray[np.intp]:
        """Row-major flat pixel indices (``row * W + col``) of one split.

        Args:
            name: ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            Sorted flat indices.
        """
        rows, cols = self.indices(name)
        return np.sort(rows * self.shape[1] + cols).astype(np.intp)

    def class_counts(self, labels: ArrayLike, name: str) -> dict[int, int]:
        """Number of pixels per class in one split.

        Args:
            labels: The ``(H, W)`` label map of the scene.
            name: ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            ``{class: count}`` for the classes present in that split.
        """
        values = as_label_map(labels)[self.indices(name)]
        classes, counts = np.unique(values, return_counts=True)
        return {int(c): int(n) for c, n in zip(classes, counts, strict=True)}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the split to a compressed ``.npz`` file.

        The file holds the scene shape and fingerprint, the parameters (as JSON),
        the role map, the block roles and the ``(rows, cols)`` of every split.

        Args:
            path: Destination file (``.npz`` is appended by numpy when missing).
        """
        arrays: dict[str, NDArray[Any]] = {
            'shape': np.asarray(self.shape, dtype=np.int64),
            'fingerprint': np.asarray(self.fingerprint),
            'params': np.asarray(json.dumps(self.params, sort_keys=True)),
            'region': self.region,
            'blocks': self.blocks,
        }
        for name in _SPLIT_NAMES:
            rows, cols = self.indices(name)
            arrays[f'{name}_rows'] = rows.astype(np.int32)
            arrays[f'{name}_cols'] = cols.astype(np.int32)
        np.savez_compressed(Path(path), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        labels: ArrayLike | None = None,
        test_mask: ArrayLike | None = None,
    ) -> SpatialSplit:
        """Load a split saved by :meth:`save`, optionally checking the scene.

        Args:
            path: The ``.npz`` file.
            labels: The label map of the scene it is meant for; when given, its
                shape and fingerprint must match those stored in the file.
            test_mask: With ``labels``: the test pixels that came with the
                scene (:func:`given_test_split`), which the file must hold as
                its test set, or None for a scene whose split draws test blocks
                (the file must then be such a split).

        Returns:
            The split.

        Raises:
            ValueError: If the file was made for another scene, or another
                test set.
        """
        with np.load(Path(path), allow_pickle=False) as data:
            shape = (int(data['shape'][0]), int(data['shape'][1]))
            fingerprint = str(data['fingerprint'])
            if labels is not None:
                actual = as_label_map(labels)
                actual_fp = scene_fingerprint(actual)
                if actual.shape != shape or actual_fp != fingerprint:
                    msg = (
                        f'split file {os.fspath(path)} was made for a scene of shape '
                        f'{shape} / fingerprint {fingerprint}, not for this scene of '
                        f'shape {actual.shape} / fingerprint {actual_fp}; '
                        f'{_ANOTHER_SPLIT}'
                    )
                    raise ValueError(msg)
            index = {
                name: (
                    data[f'{name}_rows'].astype(np.intp),
                    data[f'{name}_cols'].astype(np.intp),
                )
                for name in _SPLIT_NAMES
            }
            split = cls(
                shape=shape,
                fingerprint=fingerprint,
                train=index['train'],
                val=index['val'],
                test=index['test'],
                region=data['region'].astype(np.uint8),
                blocks=data['blocks'].astype(np.uint8),
                params=json.loads(str(data['params'])),
            )
        if labels is not None:
            split._check_test_set(path, labels, test_mask)
        return split

    def _check_test_set(
        self,
        path: str | os.PathLike[str],
        labels: ArrayLike,
        test_mask: ArrayLike | None,
    ) -> None:
        """Refuse a saved split whose test set is not the one the scene asks for.

        The fingerprint covers every labelled pixel, not which are test pixels:
        a training and a test map that together make the label map of a block
        split have its fingerprint.

        Args:
            path: The file, for messages.
            labels: The scene's label map.
            test_mask: The test pixels given with the scene, or None.

        Raises:
            ValueError: Naming the file and what to do.
        """
        given = self.params.get('test') == 'given'
        problem = 'holds the test pixels of a test label map' if given else ''
        if test_mask is not None:
            wanted = np.asarray(test_mask, dtype=bool) & (as_label_map(labels) > 0)
            if not given:
                problem = 'drew its own test blocks, not the given test labels'
            elif not np.array_equal(self.mask('test'), wanted):
                problem = 'was made for another test label map'
            else:
                problem = ''
        if problem:
            msg = f'split file {os.fspath(path)} {problem}; {_ANOTHER_SPLIT}'
            raise ValueError(msg)


def carve_guard(roles: NDArray[np.uint8], patch_size: int) -> NDArray[np.uint8]:
    """Carve a guard band between regions of different roles.

    Each role region is eroded (square structuring element, image borders do not
    erode) so that any two kept pixels of different roles are at Chebyshev
    distance ``>= patch_size``: patches of ``patch_size`` centred on them never
    overlap.

    Args:
        roles: ``(H, W)`` role map (1 train, 2 val, 3 test).
        patch_size: Side of the square patches in pixels.

    Returns:
        The role map with guard pixels set to 0.
    """
    structure = np.ones((erosion_size(patch_size),) * 2, dtype=bool)
    out = np.zeros_like(roles)
    for role in (TRAIN, VAL, TEST):
        kept = ndimage.binary_erosion(roles == role, structure, border_value=1)
        out[kept] = role
    return out


def _class_ids(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    classes = np.unique(labels)
    return classes[classes > 0]


def _budget_counts(
    budget: Budget, available: Mapping[int, int], classes: NDArray[np.int64]
) -> dict[int, int]:
    """Number of training pixels to keep per class.

    A count larger than what a class has in the training region is capped at
    what it has (a rare class of 3 training pixels keeps 3 under a budget of
    10), with one warning naming every capped class; a budget that no class can
    meet is an error, since it is then larger than the training region itself.

    Args:
        budget: Fraction (``0 < f <= 1``) of the training pixels of each class,
            an int count for every class, or ``{class: count}`` (classes left out
            keep no pixels), or None for all.
        available: Training pixels available per class.
        classes: All labelled classes of the scene.

    Returns:
        ``{class: count}``.

    Raises:
        TypeError: If the budget has an unsupported type.
        ValueError: If the budget is out of range, names classes the scene does
            not have, or asks every class for more pixels than it has.
    """
    if budget is None:
        return dict(available)
    if isinstance(budget, bool):
        msg = f'budget must be a fraction, a count or a mapping, got {budget!r}'
        raise TypeError(msg)
    if isinstance(budget, float):
        if not 0 < budget <= 1:
            msg = f'a fractional budget must lie in (0, 1], got {budget}'
            raise ValueError(msg)
        return {c: max(1, round(budget * n)) if n else 0 for c, n in available.items()}
    if isinstance(budget, int | np.integer):
        wanted = {int(c): int(budget) for c in classes}
    elif isinstance(budget, Mapping):
        wanted = {int(c): int(n) for c, n in budget.items()}
        unknown = sorted(set(wanted) - {int(c) for c in classes})
        if unknown:
            msg = (
                f'label budget names classes {unknown} that the label map does not '
                f'hold (its classes: {[int(c) for c in classes]})'
            )
            raise ValueError(msg)
    else:
        msg = f'budget must be a fraction, a count or a mapping, got {budget!r}'
        raise TypeError(msg)
    for cls, count in wanted.items():
        if count < 0:
            msg = f'label budget for class {cls} must be >= 0, got {count}'
            raise ValueError(msg)
    short = {c: n for c, n in wanted.items() if n > available.get(c, 0)}
    asked = [c for c, n in wanted.items() if n > 0]
    if asked and set(asked) <= set(short):
        detail = ', '.join(
            f'class {c} asks for {n} training pixels but only '
            f'{available.get(c, 0)} are available'
            for c, n in sorted(short.items())
        )
        msg = (
            f'label budget larger than the training region: {detail} in the '
            'training region; lower the budget, use a fraction, or use larger '
            'blocks'
        )
        raise ValueError(msg)
    if short:
        detail = ', '.join(
            f'class {c}: {available.get(c, 0)} of {n}' for c, n in sorted(short.items())
        )
        warnings.warn(
            f'label budget capped at the training pixels available ({detail})',
            UserWarning,
            stacklevel=4,
        )
    return {c: min(n, available.get(c, 0)) for c, n in wanted.items()}


def apply_budget(
    labels: NDArray[np.int64],
    pool: PixelIndex,
    budget: Budget,
    rng: np.random.Generator,
) -> PixelIndex:
    """Sample a per-class label budget from a pool of training pixels.

    Args:
        labels: ``(H, W)`` label map.
        pool: Candidate training pixels ``(rows, cols)``.
        budget: See :func:`spatial_block_split`.
        rng: Random generator.

    Returns:
        The kept pixels, sorted in row-major order.
    """
    values = labels[pool]
    available = {int(c): int((values == c).sum()) for c in _class_ids(labels)}
    wanted = _budget_counts(budget, available, _class_ids(labels))
    keep = [
        rng.choice(np.flatnonzero(values == cls), size=count, replace=False)
        for cls, count in sorted(wanted.items())
        if count > 0
    ]
    chosen = np.sort(np.concatenate(keep)) if keep else np.empty(0, dtype=np.intp)
    return pool[0][chosen], pool[1][chosen]


def as_budget(value: str | float | Mapping[Any, Any] | None) -> Budget:
    """A label budget from what users write: ``10``, ``0.05``, ``1:10,2:5``, a dict.

    The one reading of a budget for ``torchgeo-spectral split --budget`` and
    ``SceneDataModule(budget=...)``: text (the command line, including
    ``--data.init_args.budget 1:10,2:5``) is parsed; a mapping from a config may
    carry its classes as strings (YAML, JSON) and gets int keys; numbers and None
    pass through.

    Args:
        value: The budget as written, or None (all training labels).

    Returns:
        The budget.

    Raises:
        ValueError: Naming the text, if it is none of those forms.
    """
    if isinstance(value, Mapping):
        return {int(k): int(v) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    text = value
    if text.lower() in ('', 'all', 'none'):
        return None
    try:
        if ':' in text:
            pairs = (item.split(':') for item in text.split(',') if item.strip())
            return {int(c): int(n) for c, n in pairs}
        if text.strip().lstrip('-').isdigit():
            return int(text)
        return float(text)
    except ValueError as error:
        msg = (
            f'budget {text!r}: expected a count per class (10), a fraction '
            '(0.05) or class:count pairs (1:10,2:5)'
        )
        raise ValueError(msg) from error


def _json_budget(budget: Budget) -> Any:
    if isinstance(budget, Mapping):
        return {str(int(k)): int(v) for k, v in budget.items()}
    if isinstance(budget, np.integer):
        return int(budget)
    return budget


def spatial_block_split(
    labels: ArrayLike,
    patch_size: int,
    block_size: int | tuple[int, int],
    *,
    test_fraction: float = 0.3,
    pattern: Pattern = 'random',
    budget: Budget = None,
    val_fraction: float = 0.0,
    seed: int | None = 0,
    trials: int = 64,
) -> SpatialSplit:
    """Split a labelled scene into spatially disjoint train/val/test pixels.

    The scene is cut into ``block_size`` blocks. With ``pattern='random'``, blocks
    holding about ``test_fraction`` of the labelled pixels become test blocks
    (several random draws are tried and the one with the most even per-class
    fractions kept); with ``pattern='checkerboard'`` one checkerboard colour is
    the test set. ``val_fraction`` of the remaining labelled pixels move to
    validation blocks. A guard band of ``p - 1`` pixels (``p`` for even ``p``) is
    then carved between regions of different roles, half from each side, so that
    every pair of train/val/test pixel centres is at Chebyshev distance
    ``>= patch_size``: no two ``patch_size x patch_size`` patches centred on
    pixels of different splits overlap. Finally ``budget`` keeps a stratified
    sample of the labelled training pixels. The regions (and so the validation and
    test pixels) depend on the seed but not on the budget, so budgets compared
    under one seed share their test pixels.

    Args:
        labels: ``(H, W)`` label map, ``0`` = unlabelled.
        patch_size: Side of the square patches the model reads, in pixels.
        block_size: Block side (or height and width) in pixels; it should be
            well above the guard width so that blocks keep usable pixels.
        test_fraction: Target fraction of labelled pixels in test blocks
            (``'random'`` pattern only).
        pattern: ``'random'`` or ``'checkerboard'`` block assignment.
        budget: Training labels to keep: a float in ``(0, 1]`` (fraction of the
            training pixels of each class, at least one), an int (that many per
            class), a ``{class: count}`` mapping (classes left out get none), or
            None (all training pixels). Counts above what a class has in the
            training region are capped at what it has, with a warning naming
            the capped classes.
        val_fraction: Fraction of the non-test labelled pixels moved to
            validation blocks (0 for no validation split).
        seed: Seed of the random generator; the same seed gives the same split.
        trials: Random block orders tried when picking blocks by fraction.

    Returns:
        The split.

    Raises:
        ValueError: If an argument is invalid, if the guard band leaves no
            labelled train, test (or requested validation) pixels, or if the
            budget asks every class for more pixels than it has in the
            training region.
    """
    label_map = as_label_map(labels)
    if int(patch_size) != patch_size or patch_size < 1:
        msg = f'patch_size must be a positive int, got {patch_size!r}'
        raise ValueError(msg)
    blocks = to_pair(block_size, 'block_size')
    shape = (int(label_map.shape[0]), int(label_map.shape[1]))
    classes = _class_ids(label_map)
    if len(classes) == 0:
        msg = 'labels hold no labelled pixel (all 0)'
        raise ValueError(msg)
    rng = np.random.default_rng(seed)

    grid = block_grid(shape, blocks)
    ids = block_ids(shape, blocks)
    class_index = np.searchsorted(classes, label_map)
    labelled = label_map > 0
    counts = np.zeros((grid[0] * grid[1], len(classes)), dtype=np.int64)
    np.add.at(counts, (ids[labelled], class_index[labelled]), 1)
    block_roles = assign_block_roles(
        counts,
        grid,
        pattern=pattern,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        rng=rng,
        trials=trials,
    )
    region = carve_guard(block_roles.reshape(-1)[ids], patch_size)

    pools = {
        name: _indices((region == role) & labelled) for role, name in ROLE_NAMES.items()
    }
    wanted = ['train', 'test'] + (['val'] if val_fraction > 0 else [])
    for name in wanted:
        if len(pools[name][0]) == 0:
            msg = (
                f'the guard band of {guard_width(patch_size)} px '
                f'(patch_size={patch_size}) with block_size={blocks} leaves no '
                f'labelled {name} pixels; use larger blocks, a smaller patch_size '
                'or another seed'
            )
            raise ValueError(msg)
    train = apply_budget(label_map, pools['train'], budget, rng)
    params: dict[str, Any] = {
        'patch_size': int(patch_size),
        'block_size': list(blocks),
        'pattern': pattern,
        'test_fraction': float(test_fraction),
        'val_fraction': float(val_fraction),
        'budget': _json_budget(budget),
        'seed': seed,
        'trials': int(trials),
        'guard_width': guard_width(patch_size),
    }
    return SpatialSplit(
        shape=shape,
        fingerprint=scene_fingerprint(label_map),
        train=train,
        val=pools['val'],
        test=pools['test'],
        region=region,
        blocks=block_roles,
        params=params,
    )


def given_test_split(
    labels: ArrayLike,
    test_mask: ArrayLike,
    patch_size: int,
    block_size: int | tuple[int, int],
    *,
    budget: Budget = None,
    val_fraction: float = 0.0,
    seed: int | None = 0,
) -> SpatialSplit:
    """Split a scene whose test pixels came with it, as a separate label map.

    Benchmarks such as Houston 2013 ship their training and test labels as two
    maps, and published results use exactly those test pixels. They are kept as
    given: no guard band is carved around them. ``val_fraction`` of the other
    labelled pixels move to validation blocks, drawn as
    :func:`spatial_block_split` draws test blocks (with its guard band), and
    ``budget`` keeps a stratified sample of the training pixels left.

    Test pixels closer than ``patch_size`` to a training pixel are counted in a
    warning: their windows overlap training windows, so the split is not
    spatially disjoint for windows of that size.

    Args:
        labels: ``(H, W)`` label map of every labelled pixel, training and test.
        test_mask: ``(H, W)`` True at the test pixels.
        patch_size: Side of the square windows the model reads.
        block_size: Block side (or height and width) of the validation blocks.
        budget: Training labels to keep (see :func:`spatial_block_split`).
        val_fraction: Fraction of the training labels moved to validation
            blocks (0 for no validation split).
        seed: Seed of the validation blocks and of the budget draw.

    Returns:
        The split; its ``params`` record ``test: 'given'``.

    Raises:
        ValueError: If the mask's shape differs from the map's, it marks no
            labelled pixel, no training label is left outside it, or as
            :func:`spatial_block_split` for the validation blocks and budget.
    """
    label_map = as_label_map(labels)
    test = np.asarray(test_mask, dtype=bool)
    if test.shape != label_map.shape:
        msg = f'test mask of shape {test.shape} for a label map of {label_map.shape}'
        raise ValueError(msg)
    test &= label_map > 0
    train_map = np.where(test, 0, label_map)
    if not test.any() or not train_map.any():
        missing = 'test' if not test.any() else 'training'
        raise ValueError(f'the given split holds no labelled {missing} pixel')
    blocks = to_pair(block_size, 'block_size')
    shape = (int(label_map.shape[0]), int(label_map.shape[1]))
    if val_fraction > 0:
        # validation blocks are drawn from the training labels as test blocks
        # are drawn from a whole scene
        try:
            inner = spatial_block_split(
                train_map,
                patch_size,
                blocks,
                test_fraction=val_fraction,
                budget=budget,
                seed=seed,
            )
        except ValueError as error:
            # its "test" blocks are the validation blocks here
            msg = (
                f'validation blocks drawn among the training labels (val_fraction='
                f'{val_fraction}; 0 for none): {error}'
            )
            raise ValueError(msg) from error
        region = np.where(inner.region == TEST, VAL, inner.region).astype(np.uint8)
        block_roles = np.where(inner.blocks == TEST, VAL, inner.blocks)
        train, val = inner.train, inner.test
    else:
        region = np.full(shape, TRAIN, dtype=np.uint8)
        block_roles = np.full(block_grid(shape, blocks), TRAIN, dtype=np.uint8)
        pool = _indices(train_map > 0)
        train = apply_budget(label_map, pool, budget, np.random.default_rng(seed))
        val = (np.empty(0, np.intp), np.empty(0, np.intp))
    region[test] = TEST
    _warn_test_near_train(train, test, patch_size)
    params: dict[str, Any] = {
        'patch_size': int(patch_size),
        'block_size': list(blocks),
        'test': 'given',
        'val_fraction': float(val_fraction),
        'budget': _json_budget(budget),
        'seed': seed,
        'guard_width': guard_width(patch_size),
    }
    return SpatialSplit(
        shape=shape,
        fingerprint=scene_fingerprint(label_map),
        train=train,
        val=val,
        test=_indices(test),
        region=region,
        blocks=block_roles.astype(np.uint8),
        params=params,
    )


def _warn_test_near_train(
    train: PixelIndex, test: NDArray[np.bool_], patch_size: int
) -> None:
    """Warn when given test pixels lie within a window of training pixels.

    Args:
        train: Training pixels.
        test: ``(H, W)`` mask of the test pixels.
        patch_size: Window side.
    """
    if patch_size <= 1:
        return
    trained = np.zeros(test.shape, dtype=bool)
    trained[train] = True
    # centres closer than patch_size (Chebyshev) have overlapping windows
    near = ndimage.maximum_filter(trained, size=2 * patch_size - 1) & test
    if near.any():
        warnings.warn(
            f'{int(near.sum())} of {int(test.sum())} given test pixels lie within '
            f'{patch_size - 1} px of a training pixel, so their {patch_size} x '
            f'{patch_size} windows overlap training windows: the split is not '
            'spatially disjoint for these windows and test accuracy may be '
            'optimistic (window_size 1 reads each pixel alone)',
            UserWarning,
            stacklevel=4,
        )


@dataclass(frozen=True)
class SplitSettings:
    """The recipe of a spatial block split: what :func:`spatial_block_split` takes.

    ``torchgeo-spectral split`` and
    :class:`~torchgeo_spectral.datamodules.SceneDataModule` both draw their splits
    through :meth:`draw`, so a split file made on the command line is the split
    the data module draws for the same settings, and both name the label file in
    their errors.

    Attributes:
        patch_size: Side of the windows the model reads around a pixel.
        block_size: Block side (or height and width) in pixels.
        test_fraction: Target fraction of labelled pixels in test blocks.
        val_fraction: Fraction of the non-test labelled pixels in validation
            blocks.
        budget: Training labels to keep (see :func:`spatial_block_split`).
        seed: Seed of the random generator.
    """

    patch_size: int
    block_size: int | tuple[int, int]
    test_fraction: float = 0.3
    val_fraction: float = 0.0
    budget: Budget = None
    seed: int | None = 0

    def draw(
        self,
        labels: ArrayLike,
        source: str | os.PathLike[str],
        test_mask: ArrayLike | None = None,
    ) -> SpatialSplit:
        """Split a label map with these settings.

        Args:
            labels: ``(H, W)`` label map, ``0`` = unlabelled.
            source: The label file, named in errors.
            test_mask: ``(H, W)`` True at test pixels that came with the scene
                (:func:`given_test_split`; ``test_fraction`` is then unused), or
                None to draw test blocks.

        Returns:
            The split.

        Raises:
            ValueError: As :func:`spatial_block_split`, prefixed with ``source``.
        """
        try:
            if test_mask is not None:
                return given_test_split(
                    labels,
                    test_mask,
                    self.patch_size,
                    self.block_size,
                    budget=self.budget,
                    val_fraction=self.val_fraction,
                    seed=self.seed,
                )
            return spatial_block_split(
                labels,
                self.patch_size,
                self.block_size,
                test_fraction=self.test_fraction,
                val_fraction=self.val_fraction,
                budget=self.budget,
                seed=self.seed,
            )
        except ValueError as error:
            raise ValueError(f'{source}: {error}') from error


def indices_for_pixels(
    split: SpatialSplit, rows: ArrayLike, cols: ArrayLike
) -> dict[str, NDArray[np.intp]]:
    """Dataset indices of each split, for a dataset of patches around pixels.

    Benchmark scenes in patch mode yield item ``i`` centred on pixel
    ``(rows[i], cols[i])``; this maps the split onto those items, e.g.
    ``Subset(dataset, indices_for_pixels(split, rows, cols)['train'])``.

    Args:
        split: The split.
        rows: Centre row of every dataset item.
        cols: Centre column of every dataset item.

    Returns:
        ``{'train': ..., 'val': ..., 'test': ...}`` sorted dataset indices; items
        centred on guard or budget-dropped pixels belong to no split.
    """
    flat = np.asarray(rows, dtype=np.intp) * split.shape[1] + np.asarray(
        cols, dtype=np.intp
    )
    return {
        name: np.flatnonzero(np.isin(flat, split.flat_indices(name))).astype(np.intp)
        for name in _SPLIT_NAMES
    }

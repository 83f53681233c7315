"""Initialise a :class:`SpectralViT` from ImageNet (RGB) ViT weights.

Mapping (``load_imagenet_weights``):

* ``blocks.*`` and the final ``norm`` are copied verbatim (bit-identical).
  Sources with an average-pool head keep their final norm in ``fc_norm``; it is
  copied into ``norm`` (reported as *adapted*).
* ``patch_embed.proj.weight`` (``D x 3 x P x P``) is first resampled to ``p x p``
  when ``P != p`` (timm's ``resample_patch_embed``, a pseudo-inverse resize that
  keeps the response to resized patches), then mapped to the ``D x k x p x p``
  spectral kernel: every band slot gets ``(W_R + W_G + W_B) / k``. A token's
  response is then exactly the ImageNet response to the grey image whose value is
  the group's band mean, for every group and any sensor (the kernel is shared by
  all groups, so it cannot depend on a group's wavelengths). With the default
  ``group_padding='mean'`` this also holds for padded groups, and an RGB cube
  (one group) is seen as its grey-level version.
* ``patch_embed.proj.bias`` is copied verbatim.
* The ViT's learned ``pos_embed``, ``cls_token`` and ``head`` are not used (the
  encoder has fixed sin-cos encodings and mean pooling); the spectral encoding
  MLP, spectral pooling and head stay freshly initialised (*new*).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from timm.layers.patch_embed import resample_patch_embed
from torch import Tensor

from .spectral_vit import SpectralViT

__all__ = ['TransferReport', 'load_imagenet_weights', 'read_state_dict']

StateDictSource = str | os.PathLike[str] | dict[str, Tensor]


@dataclass
class TransferReport:
    """What :func:`load_imagenet_weights` did with each tensor.

    Attributes:
        taken: Model tensors copied verbatim from the source.
        adapted: Model tensors computed from source tensors (patch projection...).
        new: Model tensors left at their fresh initialisation.
        ignored: Source tensors not used.
    """

    taken: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        """Readable multi-line summary.

        Returns:
            The summary.
        """

        def block(title: str, names: list[str]) -> str:
            return f'{title} ({len(names)}): {_summarise(names)}'

        return '\n'.join(
            [
                'ImageNet transfer report',
                block('taken', self.taken),
                block('adapted', self.adapted),
                block('new', self.new),
                block('ignored', self.ignored),
            ]
        )


def _summarise(names: list[str]) -> str:
    """Compact list of tensor names: block indices collapse to ``blocks.*``.

    Args:
        names: Tensor names.

    Returns:
        E.g. ``'blocks.*.attn.qkv.weight (x12), norm.weight'``.
    """
    if not names:
        return '-'
    counts: dict[str, int] = {}
    for name in names:
        parts = name.split('.')
        if len(parts) > 1 and parts[0] == 'blocks' and parts[1].isdigit():
            parts[1] = '*'
        key = '.'.join(parts)
        counts[key] = counts.get(key, 0) + 1
    return ', '.join(f'{k} (x{n})' if n > 1 else k for k, n in counts.items())


def read_state_dict(source: StateDictSource) -> dict[str, Tensor]:
    """Read a state dict from a dict, a file or a timm model name.

    Args:
        source: A state dict; a ``.pth``/``.pt``/``.bin`` file (read with
            ``torch.load(..., weights_only=True)``; ``model``/``state_dict`` entries
            of checkpoints are unwrapped) or ``.safetensors`` file; or the name of a
            timm model with pretrained weights (needs the network or timm's cache).

    Returns:
        The state dict.

    Raises:
        FileNotFoundError: If a path-like source does not exist.
        RuntimeError: If timm cannot provide the named weights.
    """
    if isinstance(source, dict):
        return source
    path = Path(source)
    if path.is_file():
        if path.suffix == '.safetensors':
            from safetensors.torch import load_file

            return load_file(str(path))
        from .weights import read_checkpoint

        loaded: Any = read_checkpoint(path)
        for key in ('state_dict', 'model'):
            if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
                loaded = loaded[key]
        if not isinstance(loaded, dict):
            msg = f'{path} holds no state dict'
            raise RuntimeError(msg)
        return loaded
    name = str(source)
    if isinstance(source, os.PathLike) or os.sep in name or path.suffix:
        msg = f'weights file not found: {path}'
        raise FileNotFoundError(msg)
    import timm

    try:
        model = timm.create_model(name, pretrained=True)
    except Exception as err:
        msg = (
            f'could not get pretrained timm weights for {name!r} ({type(err).__name__}: '
            f'{err}); without network access pass a local state dict file instead'
        )
        raise RuntimeError(msg) from err
    return dict(model.state_dict())


def _source_width(state: dict[str, Tensor]) -> int:
    """Token width of a timm ViT state dict.

    Args:
        state: The state dict.

    Returns:
        The width.

    Raises:
        ValueError: If the state dict has no ViT blocks or patch projection.
    """
    for key in ('blocks.0.norm1.weight', 'patch_embed.proj.weight'):
        if key in state:
            return int(state[key].shape[0])
    msg = 'the source is not a timm ViT state dict (no blocks.0 or patch_embed.proj)'
    raise ValueError(msg)


def _source_depth(state: dict[str, Tensor]) -> int:
    """Number of blocks in a timm ViT state dict.

    Args:
        state: The state dict.

    Returns:
        The depth.
    """
    ids = {int(k.split('.')[1]) for k in state if k.startswith('blocks.')}
    return max(ids) + 1 if ids else 0


def rgb_to_spectral_kernel(
    weight: Tensor, bands_per_token: int, patch_size: int
) -> Tensor:
    """Map an RGB patch kernel to the spectral kernel (see the module docstring).

    Args:
        weight: ``(D, 3, P, P)`` RGB kernel (any number of input channels works:
            they are summed).
        bands_per_token: ``k``.
        patch_size: Target ``p``.

    Returns:
        ``(D, k, p, p)`` kernel, each slot ``sum_c W_c / k``.
    """
    if weight.shape[-1] != patch_size or weight.shape[-2] != patch_size:
        weight = resample_patch_embed(weight.float(), [patch_size, patch_size]).to(
            weight.dtype
        )
    slot = weight.sum(dim=1, keepdim=True) / bands_per_token
    return slot.expand(-1, bands_per_token, -1, -1).contiguous()


@torch.no_grad()
def load_imagenet_weights(
    model: SpectralViT, source: StateDictSource, *, allow_depth_mismatch: bool = False
) -> TransferReport:
    """Initialise a :class:`SpectralViT` from a timm ImageNet ViT state dict.

    Args:
        model: The encoder to initialise (in place).
        source: State dict, local file (``torch.load(weights_only=True)`` or
            safetensors) or timm model name (see :func:`read_state_dict`).
        allow_depth_mismatch: Accept a source with a different number of blocks:
            extra source blocks are *ignored*, missing ones stay *new*.

    Returns:
        The :class:`TransferReport`.

    Raises:
        ValueError: If the source width differs from ``model.embed_dim`` or (unless
            allowed) the depths differ, or a tensor shape does not match.
    """
    state = read_state_dict(source)
    width = _source_width(state)
    if width != model.embed_dim:
        msg = (
            f'width mismatch: the source ViT has width {width} but the model has '
            f'embed_dim {model.embed_dim}'
        )
        raise ValueError(msg)
    depth = _source_depth(state)
    if depth != model.depth and not allow_depth_mismatch:
        msg = (
            f'depth mismatch: the source ViT has {depth} blocks but the model has '
            f'{model.depth}; pass allow_depth_mismatch=True to copy the common blocks'
        )
        raise ValueError(msg)

    report = TransferReport()
    used: set[str] = set()
    params = dict(model.named_parameters())
    for name, param in params.items():
        if name.startswith(('blocks.', 'norm.')) or name == 'patch_embed.proj.bias':
            src_name = name
            if name.startswith('norm.') and name not in state:
                src_name = 'fc_' + name
            if src_name not in state:
                report.new.append(name)
                continue
            src = state[src_name]
            if src.shape != param.shape:
                msg = f'shape mismatch for {name}: source {tuple(src.shape)}, model {tuple(param.shape)}'
                raise ValueError(msg)
            param.copy_(src)
            used.add(src_name)
            (report.taken if src_name == name else report.adapted).append(name)
        elif name == 'patch_embed.proj.weight' and name in state:
            kernel = rgb_to_spectral_kernel(
                state[name], model.bands_per_token, model.patch_size
            )
            param.copy_(kernel)
            used.add(name)
            report.adapted.append(name)
        else:
            report.new.append(name)
    report.ignored = [k for k in state if k not in used]
    return report

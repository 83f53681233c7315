"""timm registration of ``spectral_vit_{nano,tiny,small,base}`` and their tags.

Importing :mod:`torchgeo_spectral.models` registers four architectures with timm,
each with one pretrained tag per sensor known to
:func:`torchgeo_spectral.sensors.list_sensors` (``spectral_vit_small.enmap``,
``spectral_vit_tiny.sentinel2``, ``spectral_vit_base.aviris_ng``, ...). A tag fixes
the default wavelengths (and ``in_chans``) to the sensor's band table; its
``pretrained_cfg`` carries the sensor name under ``sensor``. Sensor tags have no
weights: ``pretrained=False`` builds a randomly initialised model and
``pretrained=True`` raises, unless a local file is given with
``pretrained_cfg_overlay=dict(file=...)`` (a file written by
:func:`~torchgeo_spectral.models.save_encoder_weights`).

The tags of :data:`RELEASED_WEIGHTS` load shipped weights offline, e.g.
``timm.create_model('spectral_vit_nano.mae_foundation', pretrained=True)`` reads
the package file of
:attr:`~torchgeo_spectral.models.SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION`
(its md5 checked first).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from timm.models._pretrained import PretrainedCfg
from timm.models._registry import get_pretrained_cfg

from ..sensors import get_sensor, list_sensors
from .features import SpectralFeaturePyramid
from .spectral_vit import SpectralViT

__all__ = [
    'ARCHITECTURES',
    'RELEASED_WEIGHTS',
    'SpectralPretrainedCfg',
    'spectral_vit_base',
    'spectral_vit_nano',
    'spectral_vit_small',
    'spectral_vit_tiny',
    'valid_tags',
]

#: Settings of the registered architectures: a small pixel-token model for the
#: shipped checkpoint, and the width, depth and heads of ViT-Ti/S/B.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    'spectral_vit_nano': {
        'embed_dim': 128,
        'depth': 4,
        'num_heads': 4,
        'patch_size': 1,
        'bands_per_token': 16,
        'token_mode': 'joint',
        'projection': 'wavelength',
    },
    'spectral_vit_tiny': {'embed_dim': 192, 'depth': 12, 'num_heads': 3},
    'spectral_vit_small': {'embed_dim': 384, 'depth': 12, 'num_heads': 6},
    'spectral_vit_base': {'embed_dim': 768, 'depth': 12, 'num_heads': 12},
}


@dataclass
class SpectralPretrainedCfg(PretrainedCfg):
    """timm ``PretrainedCfg`` with the sensor a tag stands for.

    Attributes:
        sensor: Sensor name for :func:`~torchgeo_spectral.sensors.get_sensor`, or
            ``None`` for the sensor-agnostic default.
    """

    sensor: str | None = None
    md5: str | None = None


#: Pretrained tags with shipped weights: tag name to the
#: :class:`~torchgeo_spectral.models.SpectralViT_Weights` member they load.
RELEASED_WEIGHTS: dict[str, str] = {
    'spectral_vit_nano.mae_foundation': 'SPECTRAL_MAE_FOUNDATION'
}


def _released_cfg(member_name: str) -> SpectralPretrainedCfg:
    """Pretrained cfg of a tag with shipped weights (the package file).

    Args:
        member_name: Name of the :class:`SpectralViT_Weights` member.

    Returns:
        The cfg, whose ``file`` is the member's package file and ``md5`` its md5.
    """
    from .weights import released_weights

    member = released_weights()[member_name]
    return SpectralPretrainedCfg(
        file=str(member.path_in_package()),
        md5=member.meta['md5'],
        num_classes=0,
        mean=(0.0,),
        std=(1.0,),
        first_conv='patch_embed.proj',
        classifier='head',
        license=member.meta['license'],
        description=member.meta['description'],
    )


def _cfg(sensor: str | None = None) -> SpectralPretrainedCfg:
    """Pretrained cfg of one tag (no weight source: none are released).

    Args:
        sensor: Sensor name or ``None``.

    Returns:
        The cfg.
    """
    what = f'{sensor} band table' if sensor else 'wavelengths given at construction'
    return SpectralPretrainedCfg(
        sensor=sensor,
        num_classes=0,
        mean=(0.0,),
        std=(1.0,),
        first_conv='patch_embed.proj',
        classifier='head',
        license='mit',
        description=f'SpectralViT with the {what}; no released weights.',
    )


def _default_cfgs() -> dict[str, SpectralPretrainedCfg]:
    """Cfgs keyed ``arch`` and ``arch.sensor`` for every sensor.

    Returns:
        The cfg table for :func:`timm.models.generate_default_cfgs`.
    """
    cfgs: dict[str, SpectralPretrainedCfg] = {}
    for arch in ARCHITECTURES:
        cfgs[arch] = _cfg()
        for sensor in list_sensors():
            cfgs[f'{arch}.{sensor}'] = _cfg(sensor)
    for name, member in RELEASED_WEIGHTS.items():
        cfgs[name] = _released_cfg(member)
    return cfgs


default_cfgs = generate_default_cfgs(_default_cfgs())  # type: ignore[arg-type]


def valid_tags(variant: str) -> list[str]:
    """Every pretrained tag of a registered architecture.

    Args:
        variant: Architecture name, e.g. ``'spectral_vit_tiny'``.

    Returns:
        Full names: the tags with shipped weights (e.g.
        ``'spectral_vit_nano.mae_foundation'``), then one per sensor, sorted,
        e.g. ``['spectral_vit_tiny.aviris_ng', ...]``.
    """
    released = [name for name in RELEASED_WEIGHTS if name.startswith(f'{variant}.')]
    return released + [f'{variant}.{sensor}' for sensor in sorted(list_sensors())]


def _resolve_cfg(
    variant: str, pretrained_cfg: Any, overlay: dict[str, Any] | None
) -> SpectralPretrainedCfg:
    """Resolve the cfg timm hands to an entrypoint (tag, dict or cfg object).

    Args:
        variant: Architecture name.
        pretrained_cfg: Tag string, cfg dict, cfg object or ``None``.
        overlay: Entries overriding the cfg.

    Returns:
        A :class:`SpectralPretrainedCfg`.

    Raises:
        ValueError: For an unknown tag.
    """
    cfg: Any = pretrained_cfg
    if cfg is None or isinstance(cfg, str):
        name = f'{variant}.{cfg}' if cfg else variant
        try:
            cfg = get_pretrained_cfg(name)
        except RuntimeError:
            cfg = None
        if cfg is None:
            tags = ', '.join(valid_tags(variant))
            msg = f'unknown pretrained tag {name!r}; valid tags of {variant}: {tags}'
            raise ValueError(msg) from None
    if isinstance(cfg, dict):
        cfg = SpectralPretrainedCfg(**cfg)
    if not isinstance(cfg, SpectralPretrainedCfg):
        cfg = SpectralPretrainedCfg(**cfg.to_dict(remove_null=False))
    for key, value in (overlay or {}).items():
        setattr(cfg, key, value)
    if not cfg.architecture:
        cfg.architecture = variant
    resolved: SpectralPretrainedCfg = cfg
    return resolved


def _create(
    variant: str, pretrained: bool, **kwargs: Any
) -> SpectralViT | SpectralFeaturePyramid:
    """Build a registered model (entrypoint body).

    Args:
        variant: Architecture name.
        pretrained: Load the tag's weights (a local ``file`` in the cfg overlay).
        **kwargs: timm and :class:`SpectralViT` keyword arguments.

    Returns:
        The encoder, or its :class:`SpectralFeaturePyramid` with
        ``features_only=True``.

    Raises:
        ValueError: If ``in_chans`` disagrees with the sensor or wavelengths, or a
            sensor tag is combined with explicit wavelengths.
        RuntimeError: If ``pretrained=True`` and the tag has no weights.
    """
    cfg = _resolve_cfg(
        variant,
        kwargs.pop('pretrained_cfg', None),
        kwargs.pop('pretrained_cfg_overlay', None),
    )
    features_only = bool(kwargs.pop('features_only', False))
    out_indices = kwargs.pop('out_indices', (0, 1, 2, 3))
    kwargs.pop('feature_cls', None)
    in_chans = kwargs.get('in_chans')
    name = f'{variant}.{cfg.tag}' if cfg.tag else variant
    if cfg.sensor is not None:
        if kwargs.get('wavelengths') is not None:
            msg = (
                f'{name} fixes the {cfg.sensor} wavelengths; pass wavelengths=... to the '
                f'untagged {variant} instead'
            )
            raise ValueError(msg)
        sensor = get_sensor(cfg.sensor)
        if in_chans is not None and int(in_chans) != sensor.num_bands:
            msg = (
                f'{name} expects in_chans={sensor.num_bands} (the {cfg.sensor} bands), '
                f'got in_chans={in_chans}'
            )
            raise ValueError(msg)
        kwargs.update(
            wavelengths=sensor.wavelengths,
            fwhm=sensor.fwhm,
            sensor=cfg.sensor,
            in_chans=sensor.num_bands,
        )
    elif kwargs.get('wavelengths') is not None:
        count = int(np.asarray(kwargs['wavelengths']).shape[-1])
        if in_chans is not None and int(in_chans) != count:
            msg = f'in_chans={in_chans} disagrees with the {count} wavelengths given'
            raise ValueError(msg)
        kwargs['in_chans'] = count
    if kwargs.get('in_chans') is not None:
        cfg.input_size = (int(kwargs['in_chans']), 224, 224)

    if pretrained and not cfg.file:
        msg = (
            f'no released weights for {name}: build it with pretrained=False, then '
            'load local weights with torchgeo_spectral.models.load_spectral_weights(model, '
            "path), or pass pretrained_cfg_overlay=dict(file='weights.pt')"
        )
        raise RuntimeError(msg)
    model: SpectralViT = build_model_with_cfg(
        SpectralViT,
        variant,
        pretrained=False,
        pretrained_cfg=cfg,  # type: ignore[arg-type]
        **kwargs,
    )
    if pretrained:
        from .weights import check_md5, load_spectral_weights

        if cfg.md5:
            check_md5(str(cfg.file), cfg.md5)
        load_spectral_weights(model, str(cfg.file))
    if features_only:
        pyramid = SpectralFeaturePyramid(model, out_indices=out_indices)
        pyramid.pretrained_cfg = model.pretrained_cfg
        pyramid.default_cfg = model.pretrained_cfg
        pyramid.in_chans = model.in_chans
        return pyramid
    return model


def _entrypoint(variant: str, summary: str) -> Callable[..., SpectralViT]:
    """Build the timm entry point of one registered architecture.

    timm finds models by the ``__name__`` of their entry point and the module it
    lives in, so each one is a distinct function named after its variant, made
    here and registered below with :func:`timm.models.register_model` (which
    keeps :func:`timm.list_models` discovery), rather than one copy per size.

    Args:
        variant: Architecture name, a key of :data:`ARCHITECTURES`.
        summary: First docstring line (width, depth, heads).

    Returns:
        The entry point ``fn(pretrained=False, **kwargs) -> SpectralViT``.
    """

    def entrypoint(pretrained: bool = False, **kwargs: Any) -> SpectralViT:
        model = _create(variant, pretrained, **{**ARCHITECTURES[variant], **kwargs})
        return model  # type: ignore[return-value]

    entrypoint.__name__ = entrypoint.__qualname__ = variant
    entrypoint.__module__ = __name__
    entrypoint.__doc__ = f"""{summary}

    Args:
        pretrained: Load the tag's weights (see :data:`RELEASED_WEIGHTS`).
        **kwargs: :class:`SpectralViT` and timm arguments.

    Returns:
        The model.
    """
    return entrypoint


spectral_vit_nano = register_model(
    _entrypoint(
        'spectral_vit_nano',
        'SpectralViT-Nano: width 128, 4 blocks, 4 heads, pixel tokens of 16 bands '
        'with wavelength-generated projections (the shipped checkpoint).',
    )
)
spectral_vit_tiny = register_model(
    _entrypoint(
        'spectral_vit_tiny', 'SpectralViT-Ti: width 192, 12 blocks, 3 heads (ViT-Ti).'
    )
)
spectral_vit_small = register_model(
    _entrypoint(
        'spectral_vit_small', 'SpectralViT-S: width 384, 12 blocks, 6 heads (ViT-S).'
    )
)
spectral_vit_base = register_model(
    _entrypoint(
        'spectral_vit_base', 'SpectralViT-B: width 768, 12 blocks, 12 heads (ViT-B).'
    )
)

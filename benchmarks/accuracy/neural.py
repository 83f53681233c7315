"""Neural methods: encoders, MAE pretraining, linear probes and fine-tuning.

Every neural method classifies a labelled pixel from the odd ``window x window``
neighbourhood centred on it (the pixel sits at index ``window // 2``): by default
the feature is the pixel's own token (``pool='center'``: the centre cell of the
encoder's feature map, with ``patch_size=1`` the token of that pixel alone), so
the pixel's spectrum is not diluted by its neighbours; ``pool='mean'`` averages
the whole window (the former protocol, kept for the ablation). A linear head
gives the class. The same window size is the ``patch_size`` of the spatial split,
so no training window overlaps a test window.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from .config import BenchConfig
from .data import Cube


class Encoder(Protocol):
    """What the downstream code needs from an encoder."""

    embed_dim: int

    def features(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        """Pooled embedding ``(B, D)`` of windows ``(B, C, w, w)``."""
        ...


# ----------------------------------------------------------------------------------
# Devices and precision
# ----------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    """Pick the device.

    Args:
        name: ``'auto'`` (CUDA when available), ``'cpu'`` or ``'cuda[:i]'``.

    Returns:
        The device.
    """
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    return torch.device(name)


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed-precision dtype: bf16 (or fp16) on CUDA, None (fp32) on CPU.

    Args:
        device: The device.

    Returns:
        The autocast dtype or None.
    """
    if device.type != 'cuda':
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """Autocast context for the device (a no-op on CPU).

    Args:
        device: The device.

    Returns:
        The context manager.
    """
    dtype = amp_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


class Stepper:
    """Backward + optimiser step with a gradient scaler for fp16.

    Args:
        optimizer: The optimiser.
        device: The device (the scaler is active for CUDA fp16 only).
        clip: Gradient-norm clipping threshold.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, device: torch.device, clip: float = 1.0
    ) -> None:
        """Create the stepper."""
        self.optimizer = optimizer
        enabled = amp_dtype(device) == torch.float16
        self.scaler = torch.amp.GradScaler(device.type, enabled=enabled)
        self.clip = clip

    def step(self, loss: Tensor) -> None:
        """Backpropagate ``loss`` and update the parameters.

        Args:
            loss: Scalar loss.
        """
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        params = [p for g in self.optimizer.param_groups for p in g['params']]
        nn.utils.clip_grad_norm_(params, self.clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()


# ----------------------------------------------------------------------------------
# Windows around pixels
# ----------------------------------------------------------------------------------


class WindowSource:
    """Extracts ``window x window`` neighbourhoods of pixels from one image.

    Args:
        image: ``(C, H, W)`` normalised image (0 outside the data).
        wavelengths: Band centres in nm ``(C,)``.
        window: Window side in pixels.
        device: Where windows are built.
    """

    def __init__(
        self,
        image: NDArray[np.float32],
        wavelengths: NDArray[np.float64],
        window: int,
        device: torch.device,
    ) -> None:
        """Pad the image once and keep it on ``device``."""
        half = window // 2
        padded = np.pad(image, ((0, 0), (half, window - half), (half, window - half)))
        self.image = torch.from_numpy(padded).to(device)
        self.wavelengths = torch.as_tensor(wavelengths, dtype=torch.float32).to(device)
        self.window = window
        self.device = device
        self._offsets = torch.arange(window, device=device)

    @property
    def num_bands(self) -> int:
        """Number of bands ``C``."""
        return int(self.image.shape[0])

    def windows(self, rows: NDArray[np.intp], cols: NDArray[np.intp]) -> Tensor:
        """Windows centred on pixels.

        Args:
            rows: Pixel rows ``(N,)``.
            cols: Pixel columns ``(N,)``.

        Returns:
            Tensor ``(N, C, window, window)``.
        """
        r = torch.as_tensor(rows, device=self.device)[:, None] + self._offsets
        c = torch.as_tensor(cols, device=self.device)[:, None] + self._offsets
        out = self.image[:, r[:, :, None], c[:, None, :]]
        return out.permute(1, 0, 2, 3).contiguous()


def augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """Random flips and 90-degree rotation of a batch (same for all samples).

    Args:
        x: ``(B, C, H, W)`` batch.
        generator: CPU random generator.

    Returns:
        The augmented batch.
    """
    flips = torch.randint(0, 2, (2,), generator=generator).tolist()
    k = int(torch.randint(0, 4, (1,), generator=generator))
    if flips[0]:
        x = x.flip(-1)
    if flips[1]:
        x = x.flip(-2)
    return torch.rot90(x, k, dims=(-2, -1)) if k else x


# ----------------------------------------------------------------------------------
# Encoders
# ----------------------------------------------------------------------------------


def pool_feature_map(fmap: Tensor, pool: str) -> Tensor:
    """Pixel feature from a window's feature map.

    Args:
        fmap: ``(B, D, h, w)`` feature map of windows centred on the pixels.
        pool: ``'center'`` (the cell holding the centre pixel; ``h`` and ``w`` must
            be odd) or ``'mean'`` (average over the window).

    Returns:
        ``(B, D)`` features.

    Raises:
        ValueError: If ``pool='center'`` and the map has an even side.
    """
    if pool == 'mean':
        return fmap.float().mean(dim=(-2, -1))
    h, w = fmap.shape[-2:]
    if h % 2 == 0 or w % 2 == 0:
        msg = f"pool='center' needs an odd feature map, got {h}x{w}"
        raise ValueError(msg)
    return fmap[:, :, h // 2, w // 2].float()


class SpectralEncoder(nn.Module):
    """Wraps the project's ``SpectralViT``: the pixel's feature from its window.

    Args:
        vit: A ``torchgeo_spectral.models.SpectralViT``.
        pool: ``'center'`` (the pixel's own token) or ``'mean'`` (window mean).
    """

    def __init__(self, vit: nn.Module, pool: str = 'center') -> None:
        """Wrap the encoder."""
        super().__init__()
        self.vit = vit
        self.pool = pool
        self.embed_dim = int(vit.embed_dim)

    def features(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        """Centre cell (or mean) of the spatial feature map.

        Args:
            x: ``(B, C, w, w)`` windows.
            wavelengths: ``(C,)`` band centres in nm.

        Returns:
            ``(B, D)`` embeddings.
        """
        fmap = self.vit.forward_feature_map(x, wavelengths)
        return pool_feature_map(fmap, self.pool)


class TimmEncoder(nn.Module):
    """Wraps a timm ``VisionTransformer`` (fixed band count, wavelengths unused).

    Args:
        vit: The timm ViT (built with ``dynamic_img_size=True``).
        pool: ``'center'`` (the pixel's own token) or ``'mean'`` (window mean).
    """

    def __init__(self, vit: nn.Module, pool: str = 'center') -> None:
        """Wrap the encoder."""
        super().__init__()
        self.vit = vit
        self.pool = pool
        self.embed_dim = int(vit.embed_dim)

    def features(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        """Centre patch token (or mean of the patch tokens).

        Args:
            x: ``(B, C, w, w)`` windows; ``C`` must equal the ViT's ``in_chans``.
            wavelengths: Ignored (a fixed-band ViT does not read them).

        Returns:
            ``(B, D)`` embeddings.

        Raises:
            ValueError: If the band count differs from the one it was built for.
        """
        expected = int(self.vit.patch_embed.proj.in_channels)
        if x.shape[1] != expected:
            msg = f'fixed-band ViT expects {expected} bands, got {x.shape[1]}'
            raise ValueError(msg)
        tokens = self.vit.forward_features(x)[:, self.vit.num_prefix_tokens :]
        p = int(self.vit.patch_embed.patch_size[0])
        h, w = x.shape[-2] // p, x.shape[-1] // p
        fmap = tokens.transpose(1, 2).reshape(tokens.shape[0], -1, h, w)
        return pool_feature_map(fmap, self.pool)


def spectral_vit_kwargs(cfg: BenchConfig) -> dict[str, Any]:
    """Architecture arguments shared by every spectral model of a run.

    Args:
        cfg: The configuration (``vit_options`` adds product options, e.g. of an
            ablation variant).

    Returns:
        Keyword arguments for ``SpectralViT``.
    """
    return {
        'patch_size': cfg.patch_size,
        'bands_per_token': cfg.bands_per_token,
        'embed_dim': cfg.embed_dim,
        'depth': cfg.depth,
        'num_heads': cfg.num_heads,
        'token_mode': cfg.token_mode,
        'projection': cfg.projection,
        **cfg.vit_options,
    }


def build_spectral_encoder(cfg: BenchConfig, seed: int) -> SpectralEncoder:
    """A randomly initialised spectral encoder.

    Args:
        cfg: The configuration.
        seed: Seed of the initialisation.

    Returns:
        The encoder.
    """
    from torchgeo_spectral.models import SpectralViT

    torch.manual_seed(seed)
    vit = SpectralViT(**spectral_vit_kwargs(cfg), num_classes=0)
    return SpectralEncoder(vit, cfg.pool)


def vit_options(config: dict[str, Any]) -> dict[str, Any]:
    """``SpectralViT`` arguments from a stored architecture config.

    Args:
        config: ``SpectralViT.config()`` or the config of a weights file.

    Returns:
        The config without its bookkeeping keys (architecture name, format).
    """
    return {
        k: v for k, v in config.items() if k not in ('architecture', 'format_version')
    }


def build_foundation_encoder(
    cfg: BenchConfig, seed: int, *, pretrained: bool
) -> SpectralEncoder:
    """The encoder of ``cfg.foundation_weights``, pretrained or randomly initialised.

    The architecture comes from the config stored with the weights (the
    product's :func:`~torchgeo_spectral.models.read_weights_file`), so the random
    row is the same network as the pretrained one.

    Args:
        cfg: The configuration (``foundation_weights`` must be set).
        seed: Seed of the random initialisation.
        pretrained: Load the weights (else keep the random initialisation).

    Returns:
        The encoder.

    Raises:
        ValueError: If ``cfg.foundation_weights`` is not set.
    """
    from torchgeo_spectral.models import SpectralViT, load_spectral_weights
    from torchgeo_spectral.models.weights import read_weights_file

    if cfg.foundation_weights is None:
        raise ValueError('foundation rows need --foundation-weights')
    loaded = read_weights_file(cfg.foundation_weights)
    torch.manual_seed(seed)
    vit = SpectralViT(**vit_options(loaded['config']), num_classes=0)
    if pretrained:
        load_spectral_weights(vit, loaded)
    return SpectralEncoder(vit, cfg.pool)


def build_imagenet_encoder(cfg: BenchConfig, seed: int) -> SpectralEncoder:
    """A spectral encoder whose blocks start from local ImageNet ViT weights.

    Args:
        cfg: The configuration (``imagenet_weights`` must be set).
        seed: Seed of the parts that are not loaded.

    Returns:
        The encoder.
    """
    from torchgeo_spectral.models import load_imagenet_weights

    encoder = build_spectral_encoder(cfg, seed)
    load_imagenet_weights(encoder.vit, str(cfg.imagenet_weights))
    return encoder


# ----------------------------------------------------------------------------------
# Spectral MAE pretraining
# ----------------------------------------------------------------------------------


@dataclass
class PretrainLog:
    """What a pretraining run did.

    Attributes:
        name: Method name.
        steps: Optimiser steps.
        batch: Batch size.
        seconds: Wall time.
        losses: Loss of every step.
        sources: Steps drawn from each cube.
    """

    name: str
    steps: int
    batch: int
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: steps, time and first/last loss.

        Returns:
            The summary.
        """
        head = np.mean(self.losses[:10]) if self.losses else float('nan')
        tail = np.mean(self.losses[-10:]) if self.losses else float('nan')
        mix = ', '.join(f'{k}: {v}' for k, v in self.sources.items())
        return (
            f'{self.name}: {self.steps} steps x {self.batch} crops in '
            f'{self.seconds:.0f} s, loss {head:.3f} -> {tail:.3f} ({mix})'
        )


def usable_cubes(cubes: Sequence[Cube], size: int) -> list[Cube]:
    """Cubes at least ``size`` pixels on each side.

    Args:
        cubes: Candidate cubes.
        size: Crop side.

    Returns:
        The cubes that can give crops of that size.
    """
    return [c for c in cubes if min(c.image.shape[1:]) >= size]


def crop_stream(
    cubes: Sequence[Cube], cfg: BenchConfig, seed: int
) -> Iterator[tuple[Cube, NDArray[np.float32]]]:
    """Endless pretraining batches; each batch comes from one cube.

    Cubes are drawn uniformly, so every sensor contributes about equally.

    Args:
        cubes: The pretraining cubes.
        cfg: The configuration.
        seed: Random seed.

    Yields:
        The cube and a batch ``(B, C, s, s)`` of random crops with flips.
    """
    rng = np.random.default_rng(seed)
    while True:
        cube = cubes[int(rng.integers(len(cubes)))]
        yield cube, cube.crops(cfg.pretrain_batch, cfg.pretrain_size, rng)


def _build_spectral_mae(cfg: BenchConfig) -> nn.Module:
    """The project's two-stage-masking MAE around a fresh spectral encoder."""
    from torchgeo_spectral.models import SpectralMAE, SpectralViT

    spatial, spectral = mask_ratios(cfg.mask_ratio)
    # an ablation variant's mae_options may override the target
    options: dict[str, object] = {
        'target': 'normalized' if cfg.norm_pix_loss else 'pixels',
        'visible_loss_weight': cfg.visible_loss_weight,
    }
    options |= cfg.mae_options
    return SpectralMAE(
        SpectralViT(**spectral_vit_kwargs(cfg), num_classes=0),
        decoder_embed_dim=cfg.decoder_dim,
        decoder_depth=cfg.decoder_depth,
        decoder_num_heads=decoder_heads(cfg),
        spatial_mask_ratio=spatial,
        spectral_mask_ratio=spectral,
        **options,
    )


def decoder_heads(cfg: BenchConfig) -> int:
    """Decoder attention heads (width 16 per head, as for both MAEs).

    Args:
        cfg: The configuration.

    Returns:
        The number of heads.
    """
    return max(1, cfg.decoder_dim // 16)


def mask_ratios(total: float) -> tuple[float, float]:
    """Equal spatial and spectral ratios whose combination masks ``total``.

    Masking a fraction ``s`` of positions, then ``s`` of the groups at the
    remaining positions, masks ``1 - (1 - s)^2`` of the tokens.

    Args:
        total: Fraction of tokens to mask (as the TorchGeo MAE's ``mask_ratio``).

    Returns:
        ``(spatial_mask_ratio, spectral_mask_ratio)``.
    """
    s = 1 - math.sqrt(1 - total)
    return s, s


def _mae_encoder(mae: nn.Module) -> nn.Module:
    for name in ('encoder', 'backbone', 'vit'):
        module = getattr(mae, name, None)
        if isinstance(module, nn.Module):
            return module
    msg = f'cannot find the encoder of {type(mae).__name__}'
    raise AttributeError(msg)


def _pretrain_loop(
    name: str,
    params: Sequence[nn.Parameter],
    loss_fn: Callable[[Cube, Tensor], Tensor],
    cubes: Sequence[Cube],
    cfg: BenchConfig,
    device: torch.device,
) -> PretrainLog:
    """The optimisation loop shared by both MAEs (same steps, data and schedule)."""
    from torchgeo_spectral.tasks.optim import warmup_cosine as product_schedule

    optimizer = torch.optim.AdamW(
        params, lr=cfg.pretrain_lr, weight_decay=0.05, betas=(0.9, 0.95)
    )
    scheduler = product_schedule(
        optimizer, cfg.pretrain_steps, max(1, cfg.pretrain_steps // 10)
    )
    stepper = Stepper(optimizer, device)
    log = PretrainLog(name, cfg.pretrain_steps, cfg.pretrain_batch)
    start = time.perf_counter()
    stream = crop_stream(cubes, cfg, cfg.pretrain_seed)
    for _ in range(cfg.pretrain_steps):
        cube, batch = next(stream)
        x = torch.from_numpy(batch).to(device)
        with autocast(device):
            loss = loss_fn(cube, x)
        stepper.step(loss)
        scheduler.step()
        log.losses.append(float(loss.detach()))
        log.sources[cube.name] = log.sources.get(cube.name, 0) + 1
        if len(log.losses) % max(1, cfg.pretrain_steps // 8) == 0:
            print(
                f'  {name} step {len(log.losses)}/{cfg.pretrain_steps}: loss '
                f'{np.mean(log.losses[-20:]):.3f}, '
                f'{time.perf_counter() - start:.0f} s',
                flush=True,
            )
    log.seconds = time.perf_counter() - start
    return log


def pretrain_spectral_mae(
    cubes: Sequence[Cube],
    cfg: BenchConfig,
    device: torch.device,
    name: str = 'spectral MAE',
) -> tuple[SpectralEncoder, PretrainLog]:
    """Pretrain the project's spectral MAE on some cubes.

    Args:
        cubes: Pretraining cubes (each batch draws from one, so band sets mix
            across batches).
        cfg: The configuration.
        device: The device.
        name: Name in the log.

    Returns:
        The pretrained encoder and the log.
    """
    torch.manual_seed(cfg.pretrain_seed)
    mae = _build_spectral_mae(cfg).to(device).train()
    generator = torch.Generator(device=device).manual_seed(cfg.pretrain_seed)
    wavelengths = {
        c.name: torch.as_tensor(c.wavelengths, dtype=torch.float32, device=device)
        for c in cubes
    }

    spatial, spectral = mask_ratios(cfg.mask_ratio)

    def loss_fn(cube: Cube, x: Tensor) -> Tensor:
        # One spectral group (e.g. 8 Landsat bands with 32 bands per token) cannot
        # be masked spectrally: mask the same fraction of positions instead.
        single = math.ceil(x.shape[1] / cfg.bands_per_token) < 2
        mae.spatial_mask_ratio = cfg.mask_ratio if single else spatial
        mae.spectral_mask_ratio = 0.0 if single else spectral
        out = mae(x, wavelengths[cube.name], generator=generator)
        loss: Tensor = out.loss
        return loss

    log = _pretrain_loop(name, list(mae.parameters()), loss_fn, cubes, cfg, device)
    encoder = copy.deepcopy(_mae_encoder(mae)).cpu()
    return SpectralEncoder(encoder, cfg.pool), log


# ----------------------------------------------------------------------------------
# TorchGeo MAETask (fixed-band timm ViT)
# ----------------------------------------------------------------------------------


def register_timm_vit(cfg: BenchConfig) -> str:
    """Register (once) a small timm ViT with the benchmark's architecture.

    TorchGeo's ``MAETask`` builds its encoder with ``timm.create_model(name)``;
    this registers a name for a ViT with the same patch size, width, depth and
    heads as the spectral encoder (``dynamic_img_size`` so that it reads windows
    smaller than its pretraining crops).

    Args:
        cfg: The configuration.

    Returns:
        The registered model name.
    """
    import timm
    from timm.models import register_model
    from timm.models.vision_transformer import VisionTransformer

    name = (
        f'benchvit_p{cfg.patch_size}_s{cfg.pretrain_size}_d{cfg.embed_dim}'
        f'_l{cfg.depth}_h{cfg.num_heads}'
    )
    if timm.is_model(name):
        return name
    dropped = ('pretrained_cfg', 'pretrained_cfg_overlay', 'cache_dir')
    arch = {
        'img_size': cfg.pretrain_size,
        'patch_size': cfg.patch_size,
        'embed_dim': cfg.embed_dim,
        'depth': cfg.depth,
        'num_heads': cfg.num_heads,
        'dynamic_img_size': True,
    }

    def entrypoint(pretrained: bool = False, **kwargs: Any) -> VisionTransformer:
        if pretrained:
            msg = f'{name} has no pretrained weights'
            raise ValueError(msg)
        kwargs = {k: v for k, v in kwargs.items() if k not in dropped}
        return VisionTransformer(**arch, **kwargs)

    entrypoint.__name__ = name
    entrypoint.__module__ = __name__
    register_model(entrypoint)
    return name


def pretrain_torchgeo_mae(
    cube: Cube, cfg: BenchConfig, device: torch.device
) -> tuple[TimmEncoder, PretrainLog]:
    """Pretrain TorchGeo's ``MAETask`` on one fixed band set.

    Uses the task's own masking, decoder and loss (``training_step``) with the
    same optimiser, schedule, steps, batch size, crops and flips as the spectral
    MAE. A fixed-band ViT cannot read the other sensors, so every batch comes
    from ``cube`` (the labelled scene's image).

    Args:
        cube: The pretraining cube.
        cfg: The configuration.
        device: The device.

    Returns:
        The pretrained encoder and the log.
    """
    from torchgeo.tasks import MAE as MAETask

    torch.manual_seed(cfg.pretrain_seed)
    with warnings.catch_warnings():
        # torchgeo builds lightly's deprecated MAEDecoderTIMM: not ours to fix.
        warnings.simplefilter('ignore', FutureWarning)
        task = MAETask(
            model=register_timm_vit(cfg),
            in_channels=cube.image.shape[0],
            transform=nn.Identity(),
            decoder_dim=cfg.decoder_dim,
            decoder_depth=cfg.decoder_depth,
            decoder_num_heads=decoder_heads(cfg),
            mask_ratio=cfg.mask_ratio,
            size=cfg.pretrain_size,
            norm_pix_loss=cfg.norm_pix_loss,
        ).to(device)
    task.train()

    def loss_fn(_: Cube, x: Tensor) -> Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # self.log() without a Trainer
            loss: Tensor = task.training_step({'image': x}, 0)
        return loss

    log = _pretrain_loop(
        'TorchGeo MAETask', list(task.parameters()), loss_fn, [cube], cfg, device
    )
    vit = copy.deepcopy(task.backbone.vit).cpu()
    return TimmEncoder(vit, cfg.pool), log


# ----------------------------------------------------------------------------------
# Downstream: linear probe and fine-tuning
# ----------------------------------------------------------------------------------


@torch.no_grad()
def extract_features(
    encoder: nn.Module,
    source: WindowSource,
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    batch: int,
) -> NDArray[np.float32]:
    """Frozen embeddings of the windows around pixels.

    Args:
        encoder: An :class:`Encoder` module.
        source: Window source.
        rows: Pixel rows.
        cols: Pixel columns.
        batch: Windows per forward pass.

    Returns:
        ``(N, D)`` float32 features.
    """
    encoder = encoder.to(source.device).eval()
    out = []
    for i in range(0, len(rows), batch):
        x = source.windows(rows[i : i + batch], cols[i : i + batch])
        with autocast(source.device):
            out.append(encoder.features(x, source.wavelengths).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 1), np.float32)


class WindowClassifier(nn.Module):
    """Encoder plus linear head on its pooled embedding.

    Args:
        encoder: An :class:`Encoder` module.
        num_classes: Number of classes.
        norm: Standardize the features (the product's :class:`HeadNorm`, a
            BatchNorm without affine parameters) before the linear head.
    """

    def __init__(self, encoder: nn.Module, num_classes: int, norm: bool) -> None:
        """Create the classifier."""
        from torchgeo_spectral.models.heads import HeadNorm

        super().__init__()
        self.encoder = encoder
        width = int(encoder.embed_dim)
        self.norm = HeadNorm(width) if norm else nn.Identity()
        self.head = nn.Linear(width, num_classes)

    def classify(self, features: Tensor) -> Tensor:
        """Class logits of pooled embeddings.

        Args:
            features: ``(B, D)`` embeddings.

        Returns:
            ``(B, K)`` logits.
        """
        logits: Tensor = self.head(self.norm(features))
        return logits

    def forward(self, x: Tensor, wavelengths: Tensor) -> Tensor:
        """Class logits.

        Args:
            x: ``(B, C, w, w)`` windows.
            wavelengths: ``(C,)`` band centres.

        Returns:
            ``(B, K)`` logits.
        """
        return self.classify(self.encoder.features(x, wavelengths))


def layer_id(name: str, depth: int) -> int:
    """Depth of a parameter for layer-wise lr decay (0: embeddings, depth + 1: top).

    Works for ``SpectralViT`` and timm ``VisionTransformer`` parameter names.

    Args:
        name: Parameter name relative to the encoder's ViT.
        depth: Number of transformer blocks.

    Returns:
        The layer index.
    """
    if name.startswith('blocks.'):
        return int(name.split('.')[1]) + 1
    if name.startswith(('norm', 'fc_norm', 'head')):
        return depth + 1
    return 0


def finetune_groups(model: WindowClassifier, cfg: BenchConfig) -> list[dict[str, Any]]:
    """Optimizer groups of the few-label recipe.

    The encoder's lr is ``finetune_lr * layer_decay ** (depth + 1 - layer)``; the
    head's is ``head_lr``. No weight decay on biases, norms and embeddings (the
    product's rule in :func:`torchgeo_spectral.tasks.optim.parameter_groups`:
    parameters with at most one dimension, plus the model's ``no_weight_decay``).

    Args:
        model: Encoder plus head.
        cfg: The configuration.

    Returns:
        Parameter groups for AdamW.
    """
    vit = model.encoder.vit
    depth = len(vit.blocks)
    skip_fn = getattr(vit, 'no_weight_decay', None)
    skip = set(skip_fn()) if callable(skip_fn) else set()
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, param in vit.named_parameters():
        if not param.requires_grad:
            continue
        layer = layer_id(name, depth)
        decay = cfg.decay_norms or (param.ndim > 1 and name not in skip)
        key = (layer, decay)
        if key not in groups:
            scale = cfg.layer_decay ** (depth + 1 - layer)
            groups[key] = {
                'params': [],
                'lr': cfg.finetune_lr * scale,
                'weight_decay': cfg.weight_decay if decay else 0.0,
            }
        groups[key]['params'].append(param)
    head = model.head
    return [
        *groups.values(),
        {'params': [head.weight], 'lr': cfg.head_lr, 'weight_decay': cfg.weight_decay},
        {'params': [head.bias], 'lr': cfg.head_lr, 'weight_decay': 0.0},
    ]


def with_drop_path(encoder: nn.Module, cfg: BenchConfig) -> nn.Module:
    """A copy of a spectral encoder rebuilt with stochastic depth for fine-tuning.

    Args:
        encoder: A :class:`SpectralEncoder` (other encoders are only copied).
        cfg: The configuration (``drop_path``).

    Returns:
        The copy, with the same weights.
    """
    if cfg.drop_path <= 0 or not isinstance(encoder, SpectralEncoder):
        return copy.deepcopy(encoder)
    from torchgeo_spectral.models import SpectralViT

    vit = SpectralViT(
        **vit_options(encoder.vit.config()), num_classes=0, drop_path_rate=cfg.drop_path
    )
    vit.load_state_dict(encoder.vit.state_dict())
    return SpectralEncoder(vit, encoder.pool)


@torch.no_grad()
def probe_head(
    model: WindowClassifier,
    source: WindowSource,
    train: tuple[NDArray[np.intp], NDArray[np.intp]],
    targets: Tensor,
    cfg: BenchConfig,
) -> None:
    """Set the head to the closed-form linear probe of the frozen features.

    The product's :func:`~torchgeo_spectral.tasks.head_init.initialize_head`
    (the tasks' ``head_init='probe'``) on the features of all training windows,
    without augmentation or stochastic depth, with the fine-tuning loss.

    Args:
        model: Encoder plus head (left in training mode).
        source: Window source of the scene.
        train: Training pixels ``(rows, cols)``.
        targets: Class index of every training pixel.
        cfg: The configuration (``eval_batch``, ``label_smoothing``).
    """
    from torchgeo_spectral.tasks.head_init import initialize_head

    features = extract_features(model.encoder, source, *train, cfg.eval_batch)
    model.train()
    initialize_head(
        nn.Sequential(model.norm, model.head),
        torch.from_numpy(features).to(targets.device),
        lambda logits: nn.functional.cross_entropy(
            logits, targets, label_smoothing=cfg.label_smoothing
        ),
    )


def finetune(
    encoder: nn.Module,
    source: WindowSource,
    train: tuple[NDArray[np.intp], NDArray[np.intp]],
    targets: NDArray[np.int64],
    num_classes: int,
    cfg: BenchConfig,
    seed: int,
) -> WindowClassifier:
    """Fine-tune a copy of ``encoder`` with a linear head on the training pixels.

    The few-label recipe: ``probe_steps`` steps of the head alone on the frozen
    encoder (linear probe, then fine-tune), then ``finetune_steps`` steps of
    everything with layer-wise lr decay, warm-up + cosine, no weight decay on
    norms/biases/embeddings, drop-path and label smoothing. Mini-batches are
    drawn uniformly from the training pixels with random flips and rotations
    (the centre pixel stays at the centre).

    Args:
        encoder: The (pretrained or random) encoder; it is not modified.
        source: Window source of the scene.
        train: Training pixels ``(rows, cols)``.
        targets: Class index ``0..K-1`` of every training pixel.
        num_classes: Number of classes ``K``.
        cfg: The configuration.
        seed: Seed of the head initialisation and the batches.

    Returns:
        The fine-tuned classifier (in eval mode).
    """
    from torchgeo_spectral.tasks.optim import warmup_cosine as product_schedule

    torch.manual_seed(seed)
    model = WindowClassifier(with_drop_path(encoder, cfg), num_classes, cfg.head_norm)
    model = model.to(source.device).train()
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    y_all = torch.as_tensor(targets, device=source.device)
    n = len(targets)

    def run(optimizer: torch.optim.Optimizer, steps: int, frozen: bool) -> None:
        scheduler = product_schedule(optimizer, steps, max(1, steps // 10))
        stepper = Stepper(optimizer, source.device)
        for _ in range(steps):
            idx = rng.choice(n, size=min(cfg.finetune_batch, n), replace=False)
            x = augment(source.windows(train[0][idx], train[1][idx]), generator)
            with autocast(source.device):
                if frozen:
                    with torch.no_grad():
                        feats = model.encoder.features(x, source.wavelengths)
                    logits = model.classify(feats.float())
                else:
                    logits = model(x, source.wavelengths)
            loss = nn.functional.cross_entropy(
                logits.float(), y_all[idx], label_smoothing=cfg.label_smoothing
            )
            stepper.step(loss)
            scheduler.step()

    if cfg.head_init == 'probe':
        probe_head(model, source, train, y_all, cfg)
    if cfg.probe_steps > 0:
        model.encoder.eval()
        head_only = torch.optim.AdamW(
            model.head.parameters(), lr=cfg.head_lr, weight_decay=0.0
        )
        run(head_only, cfg.probe_steps, frozen=True)
        model.encoder.train()
    if cfg.finetune_steps > 0:
        optimizer = torch.optim.AdamW(finetune_groups(model, cfg), betas=(0.9, 0.999))
        run(optimizer, cfg.finetune_steps, frozen=False)
    return model.eval()


@torch.no_grad()
def predict(
    model: WindowClassifier,
    source: WindowSource,
    pixels: tuple[NDArray[np.intp], NDArray[np.intp]],
    batch: int,
) -> NDArray[np.int64]:
    """Predicted class index of every pixel.

    Args:
        model: A fine-tuned classifier.
        source: Window source.
        pixels: ``(rows, cols)``.
        batch: Windows per forward pass.

    Returns:
        Class indices ``0..K-1``.
    """
    out = []
    for i in range(0, len(pixels[0]), batch):
        x = source.windows(pixels[0][i : i + batch], pixels[1][i : i + batch])
        with autocast(source.device):
            out.append(model(x, source.wavelengths).argmax(-1).cpu())
    return torch.cat(out).numpy().astype(np.int64)

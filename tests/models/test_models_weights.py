import argparse
import re
from pathlib import Path

import pytest
import torch
from model_helpers import TINY, linear_wavelengths
from torchvision.models._api import Weights

from torchgeo_spectral.models import (
    SpectralMAE,
    SpectralViT,
    SpectralWeightsEnum,
    load_pretrained_backbone,
    load_spectral_weights,
    save_encoder_weights,
    weights_meta,
)
from torchgeo_spectral.models.weights import (
    ENCODER_CONFIG_KEY,
    CheckpointError,
    read_checkpoint,
    read_weights_file,
)


def test_roundtrip(tmp_path: Path, tiny_mae: SpectralMAE) -> None:
    meta = weights_meta(tiny_mae.encoder, sensors=['enmap'], ssl_method='spectral-mae')
    path = save_encoder_weights(tiny_mae, tmp_path / 'enc.pt', meta)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {'state_dict', 'config', 'meta'}
    assert raw['config']['bands_per_token'] == 8
    model = SpectralViT(**TINY, num_classes=3)  # type: ignore[arg-type]
    loaded_meta = load_spectral_weights(model, path)
    assert loaded_meta['sensors'] == ['enmap']
    assert loaded_meta['patch_size'] == 4
    assert torch.equal(
        model.blocks[1].attn.qkv.weight, tiny_mae.encoder.blocks[1].attn.qkv.weight
    )
    x = torch.randn(1, 13, 8, 8)
    w = linear_wavelengths(13)
    tiny_mae.encoder.eval()
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            model.forward_tokens(x, w), tiny_mae.encoder.forward_tokens(x, w)
        )


@pytest.mark.parametrize(
    ('change', 'match'),
    [
        ({'bands_per_token': 4}, 'bands_per_token: checkpoint 8, model 4'),
        ({'patch_size': 8}, 'patch_size: checkpoint 4, model 8'),
        ({'embed_dim': 64}, 'embed_dim: checkpoint 32, model 64'),
    ],
)
def test_other_architecture_refused(
    tmp_path: Path, tiny_vit: SpectralViT, change: dict[str, int], match: str
) -> None:
    path = save_encoder_weights(tiny_vit, tmp_path / 'enc.pt')
    other = SpectralViT(**{**TINY, **change})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        load_spectral_weights(other, path)


def test_missing_relative_weights_name_the_working_directory(
    tmp_path: Path, tiny_vit: SpectralViT, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a config's default checkpoint path is relative: say where it was looked for
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        FileNotFoundError,
        match=f'last.ckpt does not exist .*{re.escape(str(tmp_path))}',
    ):
        load_pretrained_backbone(tiny_vit, 'output/checkpoints/last.ckpt')


def test_weights_path_that_is_a_directory(
    tmp_path: Path, tiny_vit: SpectralViT
) -> None:
    # a Lightning log folder given where its last.ckpt was meant
    with pytest.raises(
        CheckpointError, match=f'{re.escape(str(tmp_path))} is a directory'
    ):
        load_pretrained_backbone(tiny_vit, tmp_path)


def test_not_a_weights_file(tmp_path: Path, tiny_vit: SpectralViT) -> None:
    path = tmp_path / 'plain.pt'
    torch.save(tiny_vit.state_dict(), path)
    with pytest.raises(ValueError, match='not a SpectralViT weights file'):
        load_spectral_weights(tiny_vit, path)


def test_timm_pretrained_from_local_file(tmp_path: Path) -> None:
    import timm

    torch.manual_seed(0)
    src = timm.create_model('spectral_vit_tiny.sentinel2', depth=1)
    path = save_encoder_weights(src, tmp_path / 'tiny.pt')
    model = timm.create_model(
        'spectral_vit_tiny.sentinel2',
        depth=1,
        pretrained=True,
        pretrained_cfg_overlay={'file': str(path)},
    )
    assert torch.equal(model.patch_embed.proj.weight, src.patch_embed.proj.weight)


def test_base_enum_is_empty_and_extensible(tiny_vit: SpectralViT) -> None:
    assert list(SpectralWeightsEnum) == []

    class LocalWeights(SpectralWeightsEnum):
        LOCAL = Weights(
            url='file:///nonexistent/spectral_vit.pt',
            transforms=None,
            meta=weights_meta(tiny_vit, sensors=['rgb'], ssl_method='spectral-mae'),
        )

    assert LocalWeights.LOCAL.meta['bands_per_token'] == 8
    assert LocalWeights.LOCAL.path_in_package() is None


def test_one_reader_for_exported_weights_and_mae_checkpoints(
    tmp_path: Path, tiny_mae: SpectralMAE
) -> None:
    state = {f'model.{k}': v for k, v in tiny_mae.state_dict().items()}
    ckpt = tmp_path / 'mae.ckpt'
    torch.save(
        {
            'state_dict': state,
            'hyper_parameters': {'model': 'spectral_vit_tiny'},
            'pytorch-lightning_version': '2.6.0',
            ENCODER_CONFIG_KEY: tiny_mae.encoder.config(),
        },
        ckpt,
    )
    weights = read_weights_file(ckpt)
    assert weights['config']['bands_per_token'] == 8
    model = SpectralViT(**TINY)  # type: ignore[arg-type]
    load_spectral_weights(model, ckpt)
    assert torch.equal(
        model.blocks[0].attn.qkv.weight,
        weights['state_dict']['blocks.0.attn.qkv.weight'],
    )


def test_read_checkpoint_refuses_unsafe_and_broken_files(tmp_path: Path) -> None:
    pickled = tmp_path / 'pickled.pt'
    torch.save({'fn': argparse.Namespace(x=1)}, pickled)
    with pytest.raises(CheckpointError, match=r'pickled.pt stores Python objects'):
        read_checkpoint(pickled)
    text = tmp_path / 'config.ckpt'
    text.write_text('trainer:\n  max_epochs: 1\n')
    with pytest.raises(CheckpointError, match=r'config.ckpt: it is text'):
        read_checkpoint(text)
    good = tmp_path / 'good.pt'
    torch.save({'w': torch.arange(1000.0)}, good)
    cut = tmp_path / 'cut.pt'
    cut.write_bytes(good.read_bytes()[:700])
    with pytest.raises(CheckpointError, match=r'cut.pt: it is truncated'):
        read_checkpoint(cut)
    tensor = tmp_path / 'tensor.pt'
    torch.save(torch.zeros(2), tensor)
    with pytest.raises(CheckpointError, match='holds a Tensor, not a dictionary'):
        read_checkpoint(tensor)
    assert torch.equal(read_checkpoint(good)['w'], torch.arange(1000.0))

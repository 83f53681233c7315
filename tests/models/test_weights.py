"""The shipped checkpoint: offline, md5-checked, loadable every documented way."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import timm
import torch
from safetensors import safe_open
from torchvision.models._api import Weights

from torchgeo_spectral.models import (
    SpectralViT,
    SpectralViT_Weights,
    SpectralWeightsEnum,
    load_spectral_weights,
    resolve_weights,
    save_encoder_weights,
    save_safetensors_weights,
)
from torchgeo_spectral.models.weights import (
    WEIGHTS_DIR,
    CheckpointError,
    file_md5,
    read_weights_file,
)

FOUNDATION = SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION

#: A few bands of a sensor the checkpoint never saw as such.
FEW_BANDS = torch.tensor([490.0, 560.0, 665.0, 705.0, 842.0, 1610.0])


@pytest.fixture(scope='module')
def state() -> dict[str, torch.Tensor]:
    """The shipped weights, read once."""
    loaded: dict[str, torch.Tensor] = FOUNDATION.get_state_dict(progress=False)
    return loaded


def test_file_is_package_data_with_its_md5() -> None:
    path = FOUNDATION.path_in_package()
    assert path is not None
    assert path.parent == WEIGHTS_DIR
    assert path.suffix == '.safetensors'
    assert path.stat().st_size <= 5 * 2**20
    assert file_md5(path) == FOUNDATION.meta['md5']
    assert FOUNDATION.path(progress=False) == path


def test_meta_describes_the_checkpoint() -> None:
    meta = FOUNDATION.meta
    for key in (
        'model',
        'config',
        'wavelength_range',
        'band_counts_seen',
        'sensors',
        'data',
        'recipe',
        'steps',
        'time',
        'machine',
        'license',
        'md5',
    ):
        assert meta[key], key
    assert meta['model'] == 'spectral_vit_nano'
    assert meta['config']['projection'] == 'wavelength'
    low, high = meta['wavelength_range']
    assert low < 450
    assert high > 2400
    assert Path(meta['recipe']['config']).name == 'pretrain_foundation.yaml'


def test_offline_state_dict_runs_a_forward_pass_on_a_few_bands(
    state: dict[str, torch.Tensor],
) -> None:
    model = timm.create_model('spectral_vit_nano', num_classes=0)
    result = model.load_state_dict(state, strict=False)
    assert not result.missing_keys
    assert not result.unexpected_keys
    assert all(t.dtype == torch.float32 for t in state.values())
    model.eval()
    x = torch.rand(2, FEW_BANDS.numel(), 5, 5)
    with torch.no_grad():
        fmap = model.forward_feature_map(x, FEW_BANDS)
    assert fmap.shape == (2, 128, 5, 5)
    assert torch.isfinite(fmap).all()
    # Trained weights, not an initialization: pixels with different spectra get
    # different features.
    assert fmap[0, :, 2, 2].sub(fmap[1, :, 2, 2]).abs().max() > 1e-3


def test_timm_tag_loads_the_same_weights(state: dict[str, torch.Tensor]) -> None:
    model = timm.create_model('spectral_vit_nano.mae_foundation', pretrained=True)
    assert isinstance(model, SpectralViT)
    key = 'blocks.0.attn.qkv.weight'
    assert torch.equal(model.state_dict()[key], state[key])


@pytest.mark.parametrize(
    'given',
    [
        FOUNDATION,
        'SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION',
        'SPECTRAL_MAE_FOUNDATION',
    ],
)
def test_resolve_weights_members_and_names(given: object) -> None:
    assert resolve_weights(given) is FOUNDATION  # type: ignore[arg-type]


def test_resolve_weights_paths_and_errors(tmp_path: Path) -> None:
    assert resolve_weights(None) is None
    assert resolve_weights(False) is None
    path = tmp_path / 'SPECTRAL_MAE_FOUNDATION'
    path.write_bytes(b'x')
    assert resolve_weights(str(path)) == path
    assert resolve_weights('missing/enc.pt') == Path('missing/enc.pt')
    with pytest.raises(
        ValueError, match=r'SpectralViT_Weights\.SPECTRAL_MAE_FOUNDATION'
    ):
        resolve_weights('SPECTRAL_MAE_FOUNDATON')
    with pytest.raises(ValueError, match='ambiguous'):
        resolve_weights(True)


def test_classification_task_accepts_the_member_name() -> None:
    from torchgeo_spectral.tasks import SpectralClassificationTask

    task = SpectralClassificationTask(
        model='spectral_vit_nano',
        weights='SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION',
        num_classes=3,
    )
    key = 'blocks.3.mlp.fc2.weight'
    expected = FOUNDATION.get_state_dict(progress=False)[key]
    assert torch.equal(task.model.backbone.state_dict()[key], expected)


def _local_enum(url: str, md5: str) -> type[SpectralWeightsEnum]:
    class LocalWeights(SpectralWeightsEnum):
        LOCAL = Weights(url=url, transforms=None, meta={'md5': md5})

    return LocalWeights


def test_url_members_download_once_with_md5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    source = tmp_path / 'remote' / 'nano.safetensors'
    source.parent.mkdir()
    shutil.copy(FOUNDATION.path(progress=False), source)
    member = _local_enum(source.as_uri(), FOUNDATION.meta['md5']).LOCAL  # type: ignore[attr-defined]
    path = member.path(progress=False)
    assert path == tmp_path / 'hub' / 'checkpoints' / 'nano.safetensors'
    source.unlink()  # the cached copy is used from now on
    model = timm.create_model('spectral_vit_nano', num_classes=0)
    load_spectral_weights(model, member)


def test_md5_mismatch_names_file_and_both_sums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    source = tmp_path / 'nano.safetensors'
    shutil.copy(FOUNDATION.path(progress=False), source)
    member = _local_enum(source.as_uri(), '0' * 32).LOCAL  # type: ignore[attr-defined]
    found = FOUNDATION.meta['md5']
    with pytest.raises(
        CheckpointError,
        match=rf'nano\.safetensors .*expected md5 0{{32}}, found {found}',
    ):
        member.get_state_dict(progress=False)


def test_safetensors_roundtrip_in_fp16(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = timm.create_model('spectral_vit_nano', num_classes=4)
    path = save_safetensors_weights(model, tmp_path / 'w.safetensors', {'a': 1})
    weights = read_weights_file(path)
    assert weights['meta'] == {'a': 1}
    assert weights['config']['embed_dim'] == 128
    assert not any(key.startswith('head.') for key in weights['state_dict'])
    key = 'blocks.0.attn.qkv.weight'
    torch.testing.assert_close(
        weights['state_dict'][key], model.state_dict()[key], atol=1e-3, rtol=1e-3
    )
    other = timm.create_model('spectral_vit_tiny', depth=1)
    with pytest.raises(ValueError, match='embed_dim: checkpoint 128, model 192'):
        load_spectral_weights(other, path)
    broken = tmp_path / 'broken.safetensors'
    broken.write_bytes(b'\x00' * 16)
    with pytest.raises(CheckpointError, match=r'broken\.safetensors'):
        read_weights_file(broken)


def test_export_command_writes_fp16_safetensors_with_its_md5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchgeo_spectral.main import main

    torch.manual_seed(0)
    source = save_encoder_weights(
        timm.create_model('spectral_vit_nano'), tmp_path / 'run.pt'
    )
    meta = tmp_path / 'meta.json'
    meta.write_text('{"steps": 3}')
    out = tmp_path / 'release' / 'nano.safetensors'
    main(['export-weights', str(source), str(out), '--meta', str(meta)])
    assert capsys.readouterr().out.strip().endswith(f'md5 {file_md5(out)}')
    assert read_weights_file(out)['meta'] == {'steps': 3}
    with safe_open(out, framework='pt') as stored:
        key = 'blocks.0.attn.qkv.weight'
        assert stored.get_tensor(key).dtype == torch.float16
    assert not list(out.parent.glob('.*.partial'))


def test_export_command_refuses_to_write_over_its_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchgeo_spectral.main import main

    source = save_encoder_weights(
        timm.create_model('spectral_vit_nano'), tmp_path / 'run.pt'
    )
    before = source.read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(['export-weights', str(source), str(source)])
    assert exc.value.code == 2
    assert 'refusing to write over an input' in capsys.readouterr().err
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    ('make_args', 'match'),
    [
        (
            lambda d: [str(d / 'missing.ckpt'), str(d / 'o.safetensors')],
            'does not exist',
        ),
        (
            lambda d: [
                str(d / 'run.pt'),
                str(d / 'o.safetensors'),
                '--meta',
                str(d / 'm'),
            ],
            r'--meta .*m: Expecting',
        ),
    ],
)
def test_export_command_names_bad_input_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_args: Callable[[Path], list[str]],
    match: str,
) -> None:
    from torchgeo_spectral.main import main

    save_encoder_weights(timm.create_model('spectral_vit_nano'), tmp_path / 'run.pt')
    (tmp_path / 'm').write_text('{not json')
    with pytest.raises(SystemExit) as exc:
        main(['export-weights', *make_args(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert re.search(match, err)
    assert 'Traceback' not in err
    assert not (tmp_path / 'o.safetensors').exists()


def test_failed_export_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safetensors.torch

    def disk_full(tensors: object, filename: str, metadata: object) -> None:
        Path(filename).write_bytes(b'half')
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(safetensors.torch, 'save_file', disk_full)
    model = timm.create_model('spectral_vit_nano')
    with pytest.raises(OSError, match='No space left'):
        save_safetensors_weights(model, tmp_path / 'w.safetensors')
    assert list(tmp_path.iterdir()) == []


def test_pretraining_can_start_from_the_member() -> None:
    from torchgeo_spectral.tasks import SpectralMAETask

    task = SpectralMAETask(
        model='spectral_vit_nano',
        weights='SPECTRAL_MAE_FOUNDATION',
        decoder_embed_dim=64,
        decoder_depth=1,
    )
    key = 'blocks.0.norm1.weight'
    expected = FOUNDATION.get_state_dict(progress=False)[key]
    assert torch.equal(task.encoder.state_dict()[key], expected)
    assert 'weights' not in task.hparams  # a member is no hyperparameter


def test_mismatch_only_of_fixed_settings_names_no_empty_fix(tmp_path: Path) -> None:
    # spectral_mlp is not a task argument: there is no setting to suggest
    small = {'embed_dim': 16, 'depth': 1, 'num_heads': 2}
    path = save_encoder_weights(
        SpectralViT(**small, spectral_mlp=False), tmp_path / 'w.pt'
    )
    with pytest.raises(ValueError, match=r'spectral_mlp: checkpoint False') as err:
        load_spectral_weights(SpectralViT(**small), path)
    assert 'build the model with' not in str(err.value)

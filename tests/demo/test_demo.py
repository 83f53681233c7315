from pathlib import Path

import numpy as np
import pytest
import rasterio

from torchgeo_spectral.demo import (
    DEMO_CLASSES,
    demo_library,
    encoder_arguments,
    generate_scene,
    write_scene,
)
from torchgeo_spectral.main import main
from torchgeo_spectral.models import SpectralViT, save_encoder_weights
from torchgeo_spectral.sensors import get_sensor
from torchgeo_spectral.wavelengths import read_wavelengths


@pytest.fixture
def tiny_weights(tmp_path: Path) -> Path:
    """Exported encoder weights of a one-block pixel-token pooled-mode SpectralViT."""
    encoder = SpectralViT(
        embed_dim=16,
        depth=1,
        num_heads=2,
        patch_size=1,
        bands_per_token=16,
        token_mode='pooled',
        projection='wavelength',
    )
    return save_encoder_weights(encoder, tmp_path / 'tiny.pt')


def test_library_holds_every_class_and_only_its_materials() -> None:
    library = demo_library()
    assert library.classes == tuple(DEMO_CLASSES)
    for index, materials in enumerate(DEMO_CLASSES.values()):
        chosen = library.level3[library.labels == index]
        assert chosen.size > 0
        assert set(chosen) <= set(materials)


def test_scene_is_a_sensor_cube_with_labels_and_metadata(tmp_path: Path) -> None:
    scene = generate_scene(size=16, seed=3)
    again = generate_scene(size=16, seed=3)
    assert np.array_equal(scene.scene.image, again.scene.image)  # deterministic
    enmap = get_sensor('enmap')
    assert np.allclose(scene.scene.wavelengths, enmap.wavelengths)
    assert scene.labels.shape == (16, 16)
    assert 0 <= scene.labels.min()
    assert scene.labels.max() < len(DEMO_CLASSES)
    image_path, label_path = write_scene(scene, tmp_path)
    read = read_wavelengths(image_path)  # the project's wavelength contract
    assert np.allclose(read.centres, enmap.wavelengths, atol=1e-3)
    assert read.fwhm is not None
    assert np.allclose(read.fwhm, enmap.fwhm, atol=1e-3)
    with rasterio.open(image_path) as src, rasterio.open(label_path) as labels:
        assert src.crs.to_epsg() == 32633
        assert labels.transform == src.transform
        assert labels.nodata == 0
        assert np.array_equal(labels.read(1), scene.labels + 1)
        assert labels.tags()['classes'].split(',') == list(DEMO_CLASSES)


def test_encoder_arguments_read_the_weights_config(tiny_weights: Path) -> None:
    arguments = encoder_arguments(str(tiny_weights))
    assert arguments['embed_dim'] == 16
    assert arguments['depth'] == 1
    assert arguments['patch_size'] == 1
    assert arguments['projection'] == 'wavelength'
    assert arguments['token_mode'] == 'pooled'


def test_unknown_weights_name_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match=r'NO_SUCH_WEIGHTS.*--weights PATH'):
        encoder_arguments('NO_SUCH_WEIGHTS')


def test_cli_refuses_missing_weights_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / 'missing.pt'
    with pytest.raises(SystemExit) as exit_info:
        main(['demo', '--weights', str(missing), '--output', str(tmp_path / 'out')])
    assert exit_info.value.code == 2
    assert f'checkpoint {missing} does not exist' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


@pytest.mark.slow
def test_demo_end_to_end(
    tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / 'demo'
    main(
        [
            'demo',
            '--weights',
            str(tiny_weights),
            '--output',
            str(out),
            '--size',
            '16',
            '--block-size',
            '8',
            '--labels-per-class',
            '2',
            '--steps',
            '1',
            '--trees',
            '5',
        ]
    )
    printed = capsys.readouterr().out
    for model in ('pretrained (tiny.pt)', 'random init', 'random forest (5 trees)'):
        assert model in printed
    for name in ('scene.tif', 'labels.tif', 'class_map.tif', 'demo.png'):
        assert (out / name).is_file(), name
    with (
        rasterio.open(out / 'scene.tif') as src,
        rasterio.open(out / 'class_map.tif') as dst,
    ):
        assert dst.transform == src.transform
        assert dst.crs == src.crs
        classes = dst.read(1)
    assert 1 <= classes.min()
    assert classes.max() <= len(DEMO_CLASSES)
    rows = (out / 'metrics.csv').read_text().splitlines()
    assert rows[0] == 'model,overall_accuracy,macro_f1'
    assert len(rows) == 4


def test_cli_switches_parse_to_booleans_and_choices() -> None:
    from torchgeo_spectral.demo.cli import build_parser

    parser = build_parser()
    assert parser.parse_args([]).head_norm is True
    assert parser.parse_args(['--no-head-norm']).head_norm is False
    assert parser.parse_args([]).head_init == 'probe'
    assert parser.parse_args(['--head-init', 'random']).head_init == 'random'
    with pytest.raises(SystemExit):
        parser.parse_args(['--head-init', 'lstsq'])

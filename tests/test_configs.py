"""Every shipped config runs one fast_dev_run step with a tiny model on fake data."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from own_scene import write_own_scene
from synthetic import cube, write_envi, write_geotiff

from torchgeo_spectral.main import main

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / 'conf'
DATA = ROOT / 'tests' / 'data'

TINY = [
    '--model.init_args.model=spectral_vit_tiny',
    '--model.init_args.embed_dim=32',
    '--model.init_args.depth=1',
    '--model.init_args.num_heads=2',
]
TINY_MAE = [
    *TINY,
    '--model.init_args.decoder_embed_dim=32',
    '--model.init_args.decoder_depth=1',
    '--model.init_args.decoder_num_heads=2',
]
WAVES = np.linspace(420.0, 2400.0, 12).tolist()


def _demo(tmp_path: Path) -> list[str]:
    return [
        *TINY_MAE,
        f'--data.init_args.root={tmp_path / "scene"}',
        '--data.init_args.size=24',
        '--data.init_args.tile_size=12',
        '--data.init_args.batch_size=4',
    ]


def _mixed(tmp_path: Path) -> list[str]:
    folder = tmp_path / 'cubes'
    folder.mkdir()
    # a georeferenced remote-sensing raster and a proximal ENVI cube (other bands)
    write_geotiff(folder / 'remote.tif', cube(12, 32, 32), WAVES)
    # (proximal: 16 VNIR bands, so two spectral groups of 8 for the masking)
    write_envi(
        folder / 'kernel',
        cube(16, 32, 32, seed=1),
        np.linspace(400.0, 1000.0, 16).tolist(),
        georef=False,
    )
    return [
        *TINY_MAE,
        f'--data.init_args.root={folder}',
        '--data.init_args.patch_size=16',
        '--data.init_args.batch_size=2',
        '--data.init_args.num_workers=0',
    ]


def _foundation(tmp_path: Path) -> list[str]:
    # cubes in subfolders (read recursively) and single-band Landsat 8 files
    (tmp_path / 'data' / 'enmap').mkdir(parents=True)
    write_geotiff(tmp_path / 'data' / 'enmap' / 'a.tif', cube(12, 12, 12), WAVES)
    (tmp_path / 'data' / 'landsat8').mkdir()
    for band in ('B2', 'B3', 'B4'):
        write_geotiff(
            tmp_path / 'data' / 'landsat8' / f'l8_{band}.tif', cube(1, 12, 12)
        )
    return [
        f'--data.init_args.root={tmp_path / "data"}',
        '--data.init_args.batch_size=4',
        '--data.init_args.library_size=64',
    ]


def _indian_pines(mode_args: list[str]) -> Callable[[Path], list[str]]:
    def overrides(tmp_path: Path) -> list[str]:
        return [
            f'--data.init_args.root={DATA / "hyperspectral_scenes" / "IndianPines"}',
            '--data.init_args.num_workers=0',
            '--data.init_args.batch_size=2',
            *mode_args,
        ]

    return overrides


def _enmap(tmp_path: Path) -> list[str]:
    images, labels = tmp_path / 'images', tmp_path / 'labels'
    images.mkdir()
    labels.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        origin = (370000.0 + 32 * 30.0 * i, 5810000.0)
        write_geotiff(
            images / f'tile{i}.tif', cube(12, 32, 32, seed=i), WAVES, origin=origin
        )
        mask = rng.integers(0, 7, (1, 32, 32)).astype(np.uint8)
        write_geotiff(labels / f'tile{i}.tif', mask, origin=origin)
    return [
        *TINY,
        f'--data.init_args.paths={images}',
        f'--data.init_args.label_paths={labels}',
        '--data.init_args.patch_size=16',
        '--data.init_args.length=2',
        '--data.init_args.batch_size=2',
        '--data.init_args.split_fractions=[0.34,0.33,0.33]',
    ]


def _own_scene(mode_args: list[str], labels: bool) -> Callable[[Path], list[str]]:
    def overrides(tmp_path: Path) -> list[str]:
        files = write_own_scene(tmp_path / 'scene')
        return [
            f'--data.init_args.image={files["image"]}',
            f'--data.init_args.labels={files["labels"] if labels else "null"}',
            f'--data.init_args.split={tmp_path / "split.npz"}',
            f'--data.init_args.wavelengths={files["wavelengths"]}',
            '--data.init_args.batch_size=4',
            '--model.init_args.patch_size=1',
            '--data.init_args.patch_size=1',
            *mode_args,
        ]

    return overrides


CONFIGS: dict[str, Callable[[Path], list[str]]] = {
    'pretrain_demo.yaml': _demo,
    'pretrain_mixed_folder.yaml': _mixed,
    'pretrain_foundation.yaml': _foundation,
    # the shipped checkpoint fixes the architecture: no TINY overrides; blocks
    # small enough for the 12 x 10 px fake scene
    'indian_pines_classification.yaml': _indian_pines(
        ['--data.init_args.block_size=4']
    ),
    'indian_pines_segmentation.yaml': _indian_pines(
        [*TINY, '--data.dict_kwargs.tile_size=4']
    ),
    'enmap_potsdam_segmentation.yaml': _enmap,
    # single pixels as shipped: groups of 4 of the 12 bands, so some can be hidden
    'pretrain_scene.yaml': _own_scene(
        [*TINY_MAE, '--model.init_args.bands_per_token=4'], labels=False
    ),
    'few_label_scene.yaml': _own_scene(
        [
            *TINY,
            '--data.init_args.window_size=3',
            '--data.init_args.block_size=10',
            '--model.init_args.num_classes=3',
            # the config starts from conf/pretrain_scene.yaml's checkpoint
            '--model.init_args.weights=null',
        ],
        labels=True,
    ),
    # the shipped checkpoint fixes the architecture: no TINY overrides
    'few_label_scene_foundation.yaml': _own_scene(
        ['--data.init_args.block_size=10', '--model.init_args.num_classes=3'],
        labels=True,
    ),
}


def _args(name: str, tmp_path: Path) -> list[str]:
    return [
        'fit',
        '--config',
        str(CONF / name),
        '--trainer.fast_dev_run=1',
        '--trainer.accelerator=cpu',
        '--trainer.devices=1',
        f'--trainer.default_root_dir={tmp_path / "out"}',
        *CONFIGS[name](tmp_path),
    ]


def test_every_config_is_tested() -> None:
    assert {p.name for p in CONF.glob('*.yaml')} == set(CONFIGS)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_runs(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the configs name relative output folders (checkpoints, maps): keep them
    # out of the repository
    monkeypatch.chdir(tmp_path)
    main(_args(name, tmp_path))


def test_stock_torchgeo_cli(tmp_path: Path) -> None:
    from torchgeo.main import main as torchgeo_main

    torchgeo_main(_args('pretrain_demo.yaml', tmp_path))
    assert (tmp_path / 'scene' / 'scene.tif').is_file()


def test_few_label_scene_matches_its_pretraining() -> None:
    # conf/few_label_scene.yaml loads conf/pretrain_scene.yaml's checkpoint: the
    # encoder and the input scaling must be the same in both
    pretrain = yaml.safe_load((CONF / 'pretrain_scene.yaml').read_text())
    finetune = yaml.safe_load((CONF / 'few_label_scene.yaml').read_text())
    for key in ('model', 'patch_size', 'bands_per_token'):
        assert (
            finetune['model']['init_args'][key] == pretrain['model']['init_args'][key]
        )
    for key in ('patch_size', 'normalization'):
        assert finetune['data']['init_args'][key] == pretrain['data']['init_args'][key]
    checkpoint = pretrain['trainer']['callbacks'][0]['init_args']['dirpath']
    assert finetune['model']['init_args']['weights'] == f'{checkpoint}/last.ckpt'


def test_few_label_scene_configs_differ_only_in_their_start() -> None:
    # conf/few_label_scene.yaml says its settings are those of the shipped
    # checkpoint's config: only the weights and the output folder may differ
    own = (CONF / 'few_label_scene.yaml').read_text()
    shipped = (CONF / 'few_label_scene_foundation.yaml').read_text()
    own = yaml.safe_load(
        own.replace('output/few_label_scene', 'output/few_label_scene_foundation')
    )
    shipped = yaml.safe_load(shipped)
    own_weights = own['model']['init_args'].pop('weights')
    assert own_weights != shipped['model']['init_args'].pop('weights')
    assert own == shipped

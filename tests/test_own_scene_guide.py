"""The "Your own scene, few labels" guide runs as written, on a tiny fake scene.

This is also the issue's done-when check: a NON-georeferenced GeoTIFF with a label
raster in which one class has 3 pixels goes through ``conf/pretrain_scene.yaml``
and then ``conf/few_label_scene.yaml`` with a budget of 10 per class (capped for
the rare class, with a warning).
"""

import hashlib
import logging
import re
import shlex
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from own_scene import write_own_scene, write_raster
from rasterio.errors import NotGeoreferencedWarning

from torchgeo_spectral.main import LIGHTNING_INFO_LOGGER, main
from torchgeo_spectral.samplers import SpatialSplit

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / 'docs' / 'guide' / 'own_scene.rst'

# Small enough for a 2-core CPU: tiny model, windows of 3 px, p = 1, one epoch.
TINY = [
    '--model.init_args.embed_dim=32',
    '--model.init_args.depth=1',
    '--model.init_args.num_heads=2',
    '--model.init_args.patch_size=1',
    '--data.init_args.patch_size=1',
    # 3 groups of the fake scene's 12 bands: single pixels have some to hide
    '--model.init_args.bands_per_token=4',
]
TRAINER = [
    '--trainer.accelerator=cpu',
    '--trainer.max_epochs=1',
    '--trainer.enable_progress_bar=false',
]
OVERRIDES = {
    'split': ['--block-size', '10', '--window-size', '3'],
    'pretrain_scene': [
        *TRAINER,
        *TINY,
        '--model.init_args.decoder_embed_dim=32',
        '--model.init_args.decoder_depth=1',
        '--model.init_args.decoder_num_heads=2',
    ],
    'few_label_scene': [
        *TRAINER,
        *TINY,
        '--data.init_args.window_size=3',
        '--data.init_args.block_size=10',
    ],
    # the shipped checkpoint fixes the architecture: a few steps, not a tiny model
    'few_label_scene_foundation': [
        '--trainer.accelerator=cpu',
        '--trainer.max_steps=2',
        '--trainer.enable_progress_bar=false',
        '--data.init_args.block_size=10',
    ],
}


def guide_commands() -> list[list[str]]:
    """The ``$ torchgeo-spectral ...`` commands of the guide, as argument lists."""
    text = GUIDE.read_text().replace('\\\n', ' ')
    return [
        shlex.split(line.split('$ ', 1)[1])[1:]
        for line in text.splitlines()
        if line.strip().startswith('$ torchgeo-spectral')
    ]


def with_overrides(args: list[str]) -> list[str]:
    """Tiny sizes appended to a guide command (later options win)."""
    if args[0] == 'split':
        return [*args, *OVERRIDES['split']]
    config = Path(args[args.index('--config') + 1]).stem
    return [*args, *OVERRIDES[config]]


def fit_args(config: str, files: dict[str, Path], *, labels: bool = True) -> list[str]:
    """``fit`` of a ``conf/`` config on the fake scene's files (later options win)."""
    args = [
        'fit',
        '--config',
        str(ROOT / 'conf' / f'{config}.yaml'),
        f'--data.init_args.image={files["image"]}',
        f'--data.init_args.wavelengths={files["wavelengths"]}',
    ]
    if labels:
        args.append(f'--data.init_args.labels={files["labels"]}')
    return args


def test_guide_commands_run_on_a_tiny_non_georeferenced_scene(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / 'conf', tmp_path / 'conf')
    files = write_own_scene(tmp_path / 'data' / 'my_scene')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        with rasterio.open(files['image']) as src:
            assert src.crs is None  # not georeferenced
        with rasterio.open(files['labels']) as src:
            labels = src.read(1)
    assert any(issubclass(w.category, NotGeoreferencedWarning) for w in caught)
    assert int((labels == 3).sum()) == 3  # the rare class

    # the training and test maps of the section on a test set that came with
    # the scene: the label map cut at row 25
    for name, rows in (('train_labels', slice(25, None)), ('test_labels', slice(25))):
        part = labels.copy()
        part[rows] = 0
        write_raster(files['labels'].with_name(f'{name}.tif'), part[None])

    commands = guide_commands()
    assert [c[0] for c in commands] == [
        'split',
        'fit',
        'fit',
        'test',
        'predict',
        'fit',
        'fit',
    ]
    budget = commands[2][commands[2].index('--data.init_args.budget') + 1]
    assert budget == '10'
    for args in commands:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            main(with_overrides(args))
        # every pretraining batch hides tokens to rebuild (a loss of 0 trains nothing)
        assert not [w for w in caught if 'hides no token' in str(w.message)]
        if args[0] == 'split':
            report = capsys.readouterr().out
            assert 'label budget capped' in report
            assert 'class 3: 3 of 10' in report
            assert re.search(r'^\s+3\s+3\s+\d+\s+\d+$', report, re.MULTILINE)

    out = tmp_path / 'output'
    assert (out / 'few_label_scene' / 'split.png').is_file()
    assert (out / 'pretrain_scene' / 'checkpoints' / 'last.ckpt').is_file()
    assert (out / 'few_label_scene' / 'checkpoints' / 'last.ckpt').is_file()
    foundation = out / 'few_label_scene_foundation'
    assert (foundation / 'checkpoints' / 'last.ckpt').is_file()
    given = SpatialSplit.load(foundation / 'given_split.npz')
    assert np.array_equal(
        given.mask('test'), (labels > 0) & (np.arange(labels.shape[0]) >= 25)[:, None]
    )
    assert 'test_OverallAccuracy' in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with rasterio.open(out / 'few_label_scene' / 'map.tif') as src:
            assert src.shape == labels.shape
            assert src.crs is None
            classes = np.unique(src.read(1))
    assert set(classes.tolist()) <= {1, 2, 3}


def test_budget_of_ten_is_capped_for_the_rare_class_in_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a split file, the config's data module makes it and warns."""
    monkeypatch.chdir(tmp_path)  # the config's checkpoints go to ./output
    files = write_own_scene(tmp_path / 'scene')
    args = [
        *fit_args('few_label_scene', files),
        '--trainer.fast_dev_run=1',
        f'--trainer.default_root_dir={tmp_path}',
        f'--data.init_args.split={tmp_path / "split.npz"}',
        '--data.init_args.budget=10',
        '--model.init_args.num_classes=3',
        '--model.init_args.weights=null',  # no pretraining run here
        *OVERRIDES['few_label_scene'],
    ]
    # INFO whatever an earlier test set (the benchmarks' quiet_lightning raises
    # it); caplog restores the level afterwards
    caplog.set_level(logging.INFO, logger=LIGHTNING_INFO_LOGGER)
    info = logging.getLogger(LIGHTNING_INFO_LOGGER)
    # Lightning's logger does not propagate to the root (and caplog) when the
    # root had no handler at import time, so caplog listens on it directly.
    info.addHandler(caplog.handler)
    try:
        with pytest.warns(UserWarning, match=r'capped .*class 3: 3 of 10') as caught:
            main(args)
    finally:
        info.removeHandler(caplog.handler)
    assert (tmp_path / 'split.npz').is_file()
    # Lightning's deprecation of a torch API it calls is not the user's to fix,
    # nor is its advertisement for a cloud logger (its other messages pass).
    assert not [w for w in caught if 'LeafSpec' in str(w.message)]
    messages = [record.getMessage() for record in caplog.records]
    assert messages
    assert not [m for m in messages if 'litlogger' in m]


@pytest.mark.parametrize(
    'config', ['pretrain_scene', 'few_label_scene', 'few_label_scene_foundation']
)
def test_a_second_run_replaces_the_checkpoint_the_next_command_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    # e.g. pretraining on a second scene: few_label_scene.yaml's weights are
    # output/pretrain_scene/checkpoints/last.ckpt, which must be that scene's
    monkeypatch.chdir(tmp_path)
    files = write_own_scene(tmp_path / 'scene')
    checkpoints = tmp_path / 'output' / config / 'checkpoints'
    digests = []
    for seed in (0, 1):
        args = [
            *fit_args(config, files, labels=config != 'pretrain_scene'),
            f'--seed_everything={seed}',
            *OVERRIDES[config],
            '--trainer.max_epochs=-1',
            '--trainer.max_steps=1',
        ]
        if config != 'pretrain_scene':
            args.append('--model.init_args.num_classes=3')
        if config == 'few_label_scene':
            args.append('--model.init_args.weights=null')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # budget cap, Lightning's tips
            main(args)
        digests.append(hashlib.md5((checkpoints / 'last.ckpt').read_bytes()).digest())
    assert sorted(path.name for path in checkpoints.glob('last*')) == ['last.ckpt']
    assert digests[0] != digests[1]


def test_a_forgotten_num_classes_is_named_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the config's num_classes is 6; the scene's label map has 3 classes
    monkeypatch.chdir(tmp_path)
    files = write_own_scene(tmp_path / 'scene')
    args = [
        *fit_args('few_label_scene_foundation', files),
        *OVERRIDES['few_label_scene_foundation'],
    ]
    expected = (
        r'num_classes=6, but the label map .*labels\.tif has 3 classes .*'
        r'--model\.init_args\.num_classes 3'
    )
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # budget cap, Lightning's tips
        with pytest.raises(ValueError, match=expected):
            main(args)
    assert not (
        tmp_path / 'output' / 'few_label_scene_foundation' / 'checkpoints'
    ).exists()


@pytest.mark.slow
def test_stock_torchgeo_cli_runs_the_pretraining_config(tmp_path: Path) -> None:
    from torchgeo.main import main as torchgeo_main

    files = write_own_scene(tmp_path / 'scene')
    torchgeo_main(
        [
            *fit_args('pretrain_scene', files, labels=False),
            '--trainer.fast_dev_run=1',
            f'--trainer.default_root_dir={tmp_path}',
            *OVERRIDES['pretrain_scene'],
        ]
    )

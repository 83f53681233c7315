"""Labels that do not fit num_classes/ignore_index fail with a clear message."""

import pytest
import torch
from task_helpers import TINY, Cubes, loader, quiet_trainer

from torchgeo_spectral.tasks import SpectralClassificationTask, SpectralSegmentationTask


def _with_labels(key: str, bad: int, at: int = 1) -> Cubes:
    data = Cubes(per_set=4)
    for index, sample in enumerate(data.samples):
        sample['path'] = f'tile_{index}.tif'
    sample = data.samples[at]
    if key == 'label':
        sample['label'] = torch.tensor(bad)
    else:
        sample['mask'] = sample['mask'].clone()
        sample['mask'][:2, :3] = bad
    return data


@pytest.mark.parametrize('bad', [3, -1])
def test_classification_label_out_of_range(bad: int) -> None:
    task = SpectralClassificationTask(**TINY, num_classes=3)
    with pytest.raises(ValueError, match='labels must lie in') as info:
        quiet_trainer(max_steps=1).fit(task, loader(_with_labels('label', bad)))
    message = str(info.value)
    assert f'found values [{bad}]' in message
    assert '[0, 3)' in message
    assert '(1 labels)' in message
    assert 'tile_1.tif' in message
    assert message.startswith('train batch')


def test_segmentation_label_out_of_range_in_validation() -> None:
    task = SpectralSegmentationTask(**TINY, num_classes=3)
    good = Cubes(per_set=4)
    with pytest.raises(ValueError, match='labels must lie in') as info:
        quiet_trainer(max_steps=1).fit(
            task, loader(good), loader(_with_labels('mask', 7, at=2))
        )
    message = str(info.value)
    assert message.startswith('val batch')
    assert 'found values [7] (6 labels) in samples [2]' in message
    assert 'tile_2.tif' in message


def test_ignore_index_is_accepted() -> None:
    task = SpectralSegmentationTask(**TINY, num_classes=3, ignore_index=255)
    quiet_trainer(max_steps=1).fit(task, loader(_with_labels('mask', 255)))


def test_test_stage_and_samples_without_paths() -> None:
    task = SpectralClassificationTask(**TINY, num_classes=2)
    data = Cubes(per_set=4)
    for sample in data.samples:
        sample['label'] = torch.tensor(1)
    data.samples[0]['label'] = torch.tensor(2)
    with pytest.raises(
        ValueError, match=r'test batch: .* found values \[2\] \(1 labels\)'
    ) as info:
        quiet_trainer(max_steps=1).test(task, loader(data))
    assert 'samples [' in str(info.value)

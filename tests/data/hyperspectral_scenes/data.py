#!/usr/bin/env python3
"""Write tiny fake benchmark scenes (12 x 10 px) and print their MD5 checksums.

One folder per scene class, with the files named as the real downloads. The
cube is int16 (MATLAB order rows x cols x bands), the ground truth uint8 with
0 = unlabelled and every class present. PaviaUniversity is written as a MATLAB
v7.3 (HDF5) file, which stores arrays transposed, to exercise that reader.

Run from anywhere: ``python tests/data/hyperspectral_scenes/data.py``.
"""

import hashlib
from pathlib import Path

import h5py
import numpy as np
import scipy.io

ROWS, COLS = 12, 10
HERE = Path(__file__).resolve().parent

# class name: (image file, image key, gt file, gt key, bands, classes)
SCENES = {
    'IndianPines': (
        'Indian_pines_corrected.mat',
        'indian_pines_corrected',
        'Indian_pines_gt.mat',
        'indian_pines_gt',
        200,
        16,
    ),
    'PaviaUniversity': ('PaviaU.mat', 'paviaU', 'PaviaU_gt.mat', 'paviaU_gt', 103, 9),
    'PaviaCentre': ('Pavia.mat', 'pavia', 'Pavia_gt.mat', 'pavia_gt', 102, 9),
    'Salinas': (
        'Salinas_corrected.mat',
        'salinas_corrected',
        'Salinas_gt.mat',
        'salinas_gt',
        204,
        16,
    ),
    'KennedySpaceCenter': ('KSC.mat', 'KSC', 'KSC_gt.mat', 'KSC_gt', 176, 13),
    'Botswana': ('Botswana.mat', 'Botswana', 'Botswana_gt.mat', 'Botswana_gt', 145, 14),
    'Houston2013': ('Houston.mat', 'Houston', 'Houston_gt.mat', 'Houston_gt', 144, 15),
}
HDF5 = {'PaviaUniversity'}


def cube(bands: int) -> np.ndarray:
    """Smooth int16 cube (rows, cols, bands): value = 10*band + row + col."""
    r, c, b = np.meshgrid(
        np.arange(ROWS), np.arange(COLS), np.arange(bands), indexing='ij'
    )
    return (10 * b + r + c).astype(np.int16)


def ground_truth(classes: int) -> np.ndarray:
    """Labels 0..classes over the first rows, row 0 unlabelled."""
    gt = (np.arange(ROWS * COLS) % (classes + 1)).reshape(ROWS, COLS).astype(np.uint8)
    gt[0] = 0
    gt[1, : min(COLS, classes)] = np.arange(1, min(COLS, classes) + 1)
    gt[2, : max(classes - COLS, 0)] = np.arange(COLS + 1, classes + 1)
    return gt


def write_v73(path: Path, key: str, array: np.ndarray) -> None:
    """MATLAB v7.3 file: HDF5 with a 512-byte MATLAB header, arrays transposed."""
    with h5py.File(path, 'w', userblock_size=512) as f:
        f.create_dataset(key, data=array.T, compression='gzip')
        f[key].attrs['MATLAB_class'] = np.bytes_(
            'int16' if array.dtype == np.int16 else 'uint8'
        )
    header = (
        b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: fake HDF5 schema 1.00 .'
    )
    with open(path, 'r+b') as f:
        f.write(header.ljust(116, b' ') + b'\x00' * 8 + b'\x00\x02' + b'IM')


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def main() -> None:
    for name, (image, ikey, gt, gkey, bands, classes) in SCENES.items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        for filename, key, array in (
            (image, ikey, cube(bands)),
            (gt, gkey, ground_truth(classes)),
        ):
            path = folder / filename
            if name in HDF5:
                write_v73(path, key, array)
            else:
                scipy.io.savemat(path, {key: array}, do_compression=True)
            print(f'{name}/{filename}: {md5(path)}')


if __name__ == '__main__':
    main()

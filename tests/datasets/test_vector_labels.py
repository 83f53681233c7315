"""Label polygons rasterized onto a georeferenced cube's grid."""

from pathlib import Path

import geopandas
import numpy as np
import pytest
from shapely.geometry import box
from synthetic import CRS, write_geotiff

from torchgeo_spectral.datamodules import SceneDataModule
from torchgeo_spectral.datasets import FileScene
from torchgeo_spectral.datasets.file_scene import read_label_map

WAVELENGTHS = np.linspace(450.0, 900.0, 6)
# the cube's grid: 30 m pixels from (500000, 5800000), 20 x 20 px
ORIGIN_X, ORIGIN_Y, RES = 500000.0, 5800000.0, 30.0


def pixel_box(row0: int, col0: int, row1: int, col1: int) -> object:
    """Rows row0..row1-1 and cols col0..col1-1 of the grid, as a box in UTM."""
    return box(
        ORIGIN_X + col0 * RES,
        ORIGIN_Y - row1 * RES,
        ORIGIN_X + col1 * RES,
        ORIGIN_Y - row0 * RES,
    )


@pytest.fixture
def cube(tmp_path: Path) -> Path:
    data = np.random.default_rng(0).random((6, 20, 20), dtype=np.float32) + 0.1
    return write_geotiff(tmp_path / 'cube.tif', data, WAVELENGTHS.tolist())


def write_fields(path: Path, crop: list[object], code: list[object]) -> Path:
    """Two fields and a hedge, stored in WGS 84 (the cube is UTM 33N)."""
    frame = geopandas.GeoDataFrame(
        {'crop': crop, 'code': code},
        geometry=[pixel_box(0, 0, 5, 10), pixel_box(10, 10, 20, 20), None],
        crs=CRS,
    ).to_crs('EPSG:4326')
    frame.to_file(path)
    return path


def test_polygons_with_class_names_become_a_label_map(
    cube: Path, tmp_path: Path
) -> None:
    fields = write_fields(
        tmp_path / 'fields.gpkg', ['wheat', 'barley', 'hedge'], [2, 1, 3]
    )
    scene = FileScene(cube, fields, labels_key='crop', patch_size=1)
    # names in alphabetical order: barley 1, hedge 2, wheat 3
    assert scene.class_names == ('barley', 'hedge', 'wheat')
    assert (scene.gt[:5, :10] == 3).all()
    assert (scene.gt[10:, 10:] == 1).all()
    assert int((scene.gt > 0).sum()) == 50 + 100
    # a numeric column keeps its numbers; class_names orders named classes
    numbered = FileScene(cube, fields, labels_key='code', patch_size=1)
    assert (numbered.gt[:5, :10] == 2).all()
    assert numbered.class_names == ('class 1', 'class 2')
    ordered = FileScene(
        cube, fields, labels_key='crop', class_names=['wheat', 'barley', 'hedge']
    )
    assert (ordered.gt[:5, :10] == 1).all()
    # through the data module, as --data.init_args.labels fields.gpkg
    dm = SceneDataModule(
        image=str(cube),
        labels=str(fields),
        labels_key='crop',
        window_size=1,
        block_size=5,
    )
    dm.setup('fit')
    assert dm.class_names == ('barley', 'hedge', 'wheat')


def test_bad_polygons_are_named(cube: Path, tmp_path: Path) -> None:
    fields = write_fields(
        tmp_path / 'fields.geojson', ['wheat', 'barley', 'x'], [1, 2, 3]
    )
    with pytest.raises(
        ValueError, match=r"no column 'class'.*columns: \['crop', 'code'\]"
    ):
        FileScene(cube, fields, labels_key='class')
    with pytest.raises(ValueError, match='no column given; name the column'):
        FileScene(cube, fields)
    with pytest.raises(ValueError, match=r"classes \['wheat'\] are not among"):
        FileScene(cube, fields, labels_key='crop', class_names=['barley', 'x'])
    far = geopandas.GeoDataFrame(
        {'crop': ['wheat']}, geometry=[box(10.0, 50.0, 10.001, 50.001)], crs='EPSG:4326'
    )
    far.to_file(tmp_path / 'far.gpkg')
    with pytest.raises(ValueError, match='no polygon covers a pixel centre'):
        FileScene(cube, tmp_path / 'far.gpkg', labels_key='crop')
    # a cube without a grid cannot place them
    np.save(tmp_path / 'cube.npy', np.ones((6, 20, 20), dtype=np.float32))
    with pytest.raises(ValueError, match='need a georeferenced cube'):
        FileScene(
            tmp_path / 'cube.npy', fields, WAVELENGTHS.tolist(), labels_key='crop'
        )
    # the split command reads label rasters only
    with pytest.raises(ValueError, match="rasterized onto a cube's grid"):
        read_label_map(fields)

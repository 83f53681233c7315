"""Classic hyperspectral benchmark scenes: metadata only, logic in the base class.

Files come from the official pages used by the community: the Grupo de
Inteligencia Computacional (GIC) of the University of the Basque Country
(`Hyperspectral Remote Sensing Scenes
<https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes>`_)
and, for Houston 2013, the IEEE GRSS Data Fusion Contest 2013.

MD5 checksums are attributes of :class:`~torchgeo_spectral.datasets.scene.SceneFile`;
they are ``None`` where no checksum has been recorded yet, in which case
downloads are not verified (see the user guide).
"""

from __future__ import annotations

from typing import ClassVar

from ..sensors import scenes as waves
from .scene import HyperspectralScene, SceneFile

__all__ = [
    'Botswana',
    'Houston2013',
    'IndianPines',
    'KennedySpaceCenter',
    'PaviaCentre',
    'PaviaUniversity',
    'Salinas',
]

_EHU = 'http://www.ehu.eus/ccwintco/uploads/'


class IndianPines(HyperspectralScene):
    """Indian Pines (AVIRIS 1992, 145 x 145 px, 200 corrected bands, 16 classes).

    Wavelengths: the ``aviris_indian_pines`` sensor table.
    """

    image_file = SceneFile(
        'Indian_pines_corrected.mat',
        _EHU + '6/67/Indian_pines_corrected.mat',
        None,
        'indian_pines_corrected',
    )
    gt_file = SceneFile(
        'Indian_pines_gt.mat',
        _EHU + 'c/c4/Indian_pines_gt.mat',
        None,
        'indian_pines_gt',
    )
    wavelength_table = staticmethod(waves.indian_pines)
    class_names: ClassVar[tuple[str, ...]] = (
        'Alfalfa',
        'Corn-notill',
        'Corn-mintill',
        'Corn',
        'Grass-pasture',
        'Grass-trees',
        'Grass-pasture-mowed',
        'Hay-windrowed',
        'Oats',
        'Soybean-notill',
        'Soybean-mintill',
        'Soybean-clean',
        'Wheat',
        'Woods',
        'Buildings-Grass-Trees-Drives',
        'Stone-Steel-Towers',
    )


class PaviaUniversity(HyperspectralScene):
    """Pavia University (ROSIS, 610 x 340 px, 103 bands, 9 classes).

    Wavelengths: the ``rosis`` table (103 evenly spaced centres, 430-860 nm).
    """

    image_file = SceneFile('PaviaU.mat', _EHU + 'e/ee/PaviaU.mat', None, 'paviaU')
    gt_file = SceneFile('PaviaU_gt.mat', _EHU + '5/50/PaviaU_gt.mat', None, 'paviaU_gt')
    wavelength_table = staticmethod(waves.pavia_university)
    class_names: ClassVar[tuple[str, ...]] = (
        'Asphalt',
        'Meadows',
        'Gravel',
        'Trees',
        'Painted metal sheets',
        'Bare Soil',
        'Bitumen',
        'Self-Blocking Bricks',
        'Shadows',
    )


class PaviaCentre(HyperspectralScene):
    """Pavia Centre (ROSIS, 1096 x 715 px, 102 bands, 9 classes).

    Wavelengths: 102 evenly spaced centres 430-860 nm (approximation).
    """

    image_file = SceneFile('Pavia.mat', _EHU + 'e/e3/Pavia.mat', None, 'pavia')
    gt_file = SceneFile('Pavia_gt.mat', _EHU + '5/53/Pavia_gt.mat', None, 'pavia_gt')
    wavelength_table = staticmethod(waves.pavia_centre)
    class_names: ClassVar[tuple[str, ...]] = (
        'Water',
        'Trees',
        'Asphalt',
        'Self-Blocking Bricks',
        'Bitumen',
        'Tiles',
        'Shadows',
        'Meadows',
        'Bare Soil',
    )


class Salinas(HyperspectralScene):
    """Salinas (AVIRIS 1998, 512 x 217 px, 204 bands, 16 classes).

    Wavelengths: AVIRIS 224 channels minus the water channels 108-112, 154-167
    and 224 (see :mod:`~torchgeo_spectral.sensors.scenes`).
    """

    image_file = SceneFile(
        'Salinas_corrected.mat',
        _EHU + 'a/a3/Salinas_corrected.mat',
        None,
        'salinas_corrected',
    )
    gt_file = SceneFile(
        'Salinas_gt.mat', _EHU + 'f/fa/Salinas_gt.mat', None, 'salinas_gt'
    )
    wavelength_table = staticmethod(waves.salinas)
    class_names: ClassVar[tuple[str, ...]] = (
        'Brocoli_green_weeds_1',
        'Brocoli_green_weeds_2',
        'Fallow',
        'Fallow_rough_plow',
        'Fallow_smooth',
        'Stubble',
        'Celery',
        'Grapes_untrained',
        'Soil_vinyard_develop',
        'Corn_senesced_green_weeds',
        'Lettuce_romaine_4wk',
        'Lettuce_romaine_5wk',
        'Lettuce_romaine_6wk',
        'Lettuce_romaine_7wk',
        'Vinyard_untrained',
        'Vinyard_vertical_trellis',
    )


class KennedySpaceCenter(HyperspectralScene):
    """Kennedy Space Center (AVIRIS 1996, 512 x 614 px, 176 bands, 13 classes).

    Wavelengths: 176 AVIRIS channels outside the water windows (approximation).
    """

    image_file = SceneFile('KSC.mat', _EHU + '2/26/KSC.mat', None, 'KSC')
    gt_file = SceneFile('KSC_gt.mat', _EHU + 'a/a6/KSC_gt.mat', None, 'KSC_gt')
    wavelength_table = staticmethod(waves.kennedy_space_center)
    class_names: ClassVar[tuple[str, ...]] = (
        'Scrub',
        'Willow swamp',
        'Cabbage palm hammock',
        'Cabbage palm/oak hammock',
        'Slash pine',
        'Oak/broadleaf hammock',
        'Hardwood swamp',
        'Graminoid marsh',
        'Spartina marsh',
        'Cattail marsh',
        'Salt marsh',
        'Mud flats',
        'Water',
    )


class Botswana(HyperspectralScene):
    """Botswana, Okavango Delta (Hyperion, 1476 x 256 px, 145 bands, 14 classes).

    Wavelengths: Hyperion bands 10-55, 82-97, 102-119, 134-164, 187-220.
    """

    image_file = SceneFile('Botswana.mat', _EHU + '7/72/Botswana.mat', None, 'Botswana')
    gt_file = SceneFile(
        'Botswana_gt.mat', _EHU + '5/58/Botswana_gt.mat', None, 'Botswana_gt'
    )
    wavelength_table = staticmethod(waves.botswana)
    class_names: ClassVar[tuple[str, ...]] = (
        'Water',
        'Hippo grass',
        'Floodplain grasses 1',
        'Floodplain grasses 2',
        'Reeds',
        'Riparian',
        'Firescar',
        'Island interior',
        'Acacia woodlands',
        'Acacia shrublands',
        'Acacia grasslands',
        'Short mopane',
        'Mixed mopane',
        'Exposed soils',
    )


class Houston2013(HyperspectralScene):
    """University of Houston, GRSS DFC 2013 (CASI, 349 x 1905 px, 144 bands).

    15 classes.

    The contest data (``2013_DFTC.zip``, https://hyperspectral.ee.uh.edu/) are
    distributed after registration, with the labels as ENVI ROI files, so they
    cannot be downloaded here: place the cube as ``Houston.mat`` (variable
    ``Houston``, rows x cols x 144) and the rasterised training + test labels as
    ``Houston_gt.mat`` (variable ``Houston_gt``) in ``root``, the layout used by
    the community. Wavelengths: 144 evenly spaced centres 380-1050 nm.
    """

    image_file = SceneFile('Houston.mat', None, None, 'Houston')
    gt_file = SceneFile('Houston_gt.mat', None, None, 'Houston_gt')
    wavelength_table = staticmethod(waves.houston2013)
    class_names: ClassVar[tuple[str, ...]] = (
        'Healthy grass',
        'Stressed grass',
        'Synthetic grass',
        'Trees',
        'Soil',
        'Water',
        'Residential',
        'Commercial',
        'Road',
        'Highway',
        'Railway',
        'Parking Lot 1',
        'Parking Lot 2',
        'Tennis Court',
        'Running Track',
    )

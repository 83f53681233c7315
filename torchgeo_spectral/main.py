"""Command-line interface: TorchGeo's ``torchgeo`` CLI with this plugin registered."""

import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import rasterio
from torchgeo.main import main as torchgeo_main

from torchgeo_spectral.rasterio_env import READ_OPTIONS

#: Subcommands of this plugin, on top of TorchGeo's (Lightning's) own.
PLUGIN_COMMANDS = (
    'Plugin commands (each with --help):\n'
    '  demo            fine-tune the pretrained checkpoint on a synthetic scene\n'
    '  predict-map     tiled class map of a georeferenced raster (GeoTIFF)\n'
    '  embed           per-patch and per-tile embeddings of a raster\n'
    '  split           spatially disjoint split of a label raster (saved, drawn)\n'
    '  export-weights  encoder of a checkpoint as fp16 safetensors, with its md5\n'
    '  emit-to-geotiff an EMIT granule as a georeferenced GeoTIFF\n'
    '  prisma-to-geotiff the hyperspectral cube of a PRISMA product as a GeoTIFF\n'
)

#: Lightning's own deprecation of a torch API it calls: printed by every ``fit``,
#: and nothing a user can act on.
LIGHTNING_LEAFSPEC_WARNING = '.*LeafSpec.*is deprecated'

#: Lightning's tip to install its cloud logger (a fragment of it), printed by every
#: command: an advertisement, and no use offline.
LIGHTNING_LITLOGGER_TIP = 'try installing [litlogger]'
#: The logger Lightning's ``rank_zero_info`` writes to.
LIGHTNING_INFO_LOGGER = 'lightning.pytorch.utilities.rank_zero'


@contextmanager
def restored_environment() -> Iterator[None]:
    """Leave ``os.environ`` as it was found, whatever the block exports.

    Running a command from Python (a notebook, a benchmark) must not change the
    caller's environment; TorchGeo's CLI exports GDAL settings into it.

    Yields:
        Nothing.
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def without_log_message(logger: str, fragment: str) -> Iterator[None]:
    """Drop one message of a logger while the block runs; its others pass.

    Args:
        logger: Logger name.
        fragment: Text of the message to drop.

    Yields:
        Nothing.
    """

    def drop(record: logging.LogRecord) -> bool:
        return fragment not in record.getMessage()

    logging.getLogger(logger).addFilter(drop)
    try:
        yield
    finally:
        logging.getLogger(logger).removeFilter(drop)


@contextmanager
def command_line(argv: Sequence[str]) -> Iterator[None]:
    """Let ``sys.argv`` hold the command's arguments while it runs, then restore it.

    LightningCLI parses ``sys.argv``; a command run from Python (a notebook, a
    benchmark, a test) passes its arguments as a list, and handing that list to
    LightningCLI while ``sys.argv`` holds the caller's own arguments makes it
    warn on every call.

    Args:
        argv: The command's arguments, without the program name.

    Yields:
        Nothing.
    """
    saved = sys.argv
    sys.argv = [saved[0] if saved else 'torchgeo-spectral', *argv]
    try:
        yield
    finally:
        sys.argv = saved


def main(args: Sequence[str] | None = None) -> None:
    """Run the ``torchgeo-spectral`` command line.

    It behaves like TorchGeo's ``torchgeo`` command (``fit``, ``validate``,
    ``test``, ``predict``), but imports this plugin first so that configs can
    name its tasks, data modules and timm models by short class name.

    Args:
        args: Command-line arguments; ``sys.argv[1:]`` when None.
    """
    argv = list(sys.argv[1:] if args is None else args)
    if argv[:1] == ['demo']:
        from torchgeo_spectral.demo.cli import main as demo_main

        demo_main(argv[1:])
        return
    if argv[:1] == ['export-weights']:
        from torchgeo_spectral.models.weights import main as export_main

        export_main(argv[1:])
        return
    from torchgeo_spectral.datasets.product import geotiff_command, product_formats

    if argv and argv[0] in {fmt.command for fmt in product_formats()}:
        if status := geotiff_command(argv[0], argv[1:]):
            raise SystemExit(status)
        return
    if argv[:1] == ['split']:
        from torchgeo_spectral.samplers.cli import main as split_main

        if status := split_main(argv[1:]):
            raise SystemExit(status)
        return
    from torchgeo_spectral.inference import cli as inference_cli

    if argv and argv[0] in inference_cli.INFERENCE_COMMANDS:
        if status := inference_cli.main(argv):
            raise SystemExit(status)
        return
    import torchgeo_spectral.datamodules
    import torchgeo_spectral.tasks  # noqa: F401

    if argv[:1] in (['-h'], ['--help']):
        print(PLUGIN_COMMANDS)

    # TorchGeo's CLI exports GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR, which hides
    # ENVI headers from GDAL; these configuration options take precedence. The
    # environment is restored before rasterio's Env closes: an Env opened over the
    # exported value would leave it in GDAL's configuration for the process.
    with (
        rasterio.Env(**READ_OPTIONS),
        restored_environment(),
        command_line(argv),
        warnings.catch_warnings(),
        without_log_message(LIGHTNING_INFO_LOGGER, LIGHTNING_LITLOGGER_TIP),
    ):
        warnings.filterwarnings('ignore', message=LIGHTNING_LEAFSPEC_WARNING)
        torchgeo_main()


if __name__ == '__main__':
    main()

"""Sphinx configuration for torchgeo-spectral."""

import os
import sys

sys.path.insert(0, os.path.abspath('..'))

import torchgeo_spectral

project = 'torchgeo-spectral'
author = 'torchgeo-spectral developers'
copyright = '2026, torchgeo-spectral developers'
release = torchgeo_spectral.__version__

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'sphinx.ext.intersphinx',
]
autodoc_typehints = 'description'
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
html_theme = 'furo'
html_title = 'torchgeo-spectral'
exclude_patterns = ['_build']
# Offline by default: no inventories are fetched, cross-references stay plain text.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

"""stsanalysis: statistics, radiomics and HTML study reports for soft-tissue-sarcoma imaging."""

from importlib.metadata import PackageNotFoundError, version

from .errors import InputError

try:
    __version__ = version("stsanalysis")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["InputError", "__version__"]

"""stsanalysis: statistics, radiomics and HTML study reports for soft-tissue-sarcoma imaging."""

import sys
from importlib.metadata import PackageNotFoundError, version

from .errors import InputError

# nbformat (imported by papermill, nbconvert and plotly's renderers, in every report process
# and kernel) imports jsonschema, which imports the optional rfc3987_syntax when installed: it
# compiles 38 grammars at import, about 0.9 s per process, for IRI format checks that no
# notebook schema uses. Marking it absent makes jsonschema skip those two formats.
sys.modules.setdefault("rfc3987_syntax", None)

try:
    __version__ = version("stsanalysis")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["InputError", "__version__"]

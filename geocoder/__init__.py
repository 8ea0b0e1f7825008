"""Geocoder: text normalisation, address parsing, forward/reverse search and batch runs."""

from geocoder.native import activate

NATIVE = activate(__path__)
"""Whether the hot modules run compiled (the build of these very sources) or as pure Python."""

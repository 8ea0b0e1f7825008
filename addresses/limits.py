"""Limits shared by the library and the web layer, each written once.

>>> MAX_OFFSET == 2**63 - 1, MAX_PAGE_SIZE
(True, 1000)
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_PAGE_SIZE", "FEATURES_PAGE_SIZE", "MAX_HOPS", "MAX_OFFSET", "MAX_PAGE_SIZE", "MAX_TEXT"]

DEFAULT_PAGE_SIZE: Final = 50
"""Rows a list answers with when no limit is given (units, code look-ups)."""
FEATURES_PAGE_SIZE: Final = 10
"""Features an OGC items page holds when no limit is given (the OGC API Features default)."""
MAX_PAGE_SIZE: Final = 1000
"""The largest page a client may ask for (ApiSettings.max_limit defaults to it)."""
MAX_OFFSET: Final = 2**63 - 1
"""The largest offset PostgreSQL can skip (a bigint)."""
MAX_HOPS: Final = 10
"""Lineage steps followed at most: more changes than any unit went through since 2008."""
MAX_TEXT: Final = 200
"""Characters an address part or name may have (house numbers have their own, shorter limit)."""

"""Versions over HTTP: the If-Match an edit names, the ETag (and successor Link) an address answers with."""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import Header, Response
from sqlalchemy import Connection

from addresses.errors import InvalidParameterError
from addresses.registry import RegistryLookup, lookup_registry
from api.errors import PreconditionRequiredError
from api.schemas_codes import AddressDetailFeature, address_detail, address_path

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag of the version edited, e.g. "3" (as GET answered it). A stale one answers 409.',
        examples=['"1"'],
    ),
]

_ETAG: Final = re.compile(r'^\s*(?:"(\d{1,10})"|(\d{1,10}))\s*$')


def expected_version(if_match: str | None, body_version: int | None) -> int:
    """Return the version an edit was made on, from If-Match or the body; 428 when neither says.

    >>> expected_version('"3"', None), expected_version(None, 4), expected_version("5", 5)
    (3, 4, 5)
    """
    if if_match is None:
        if body_version is None:
            raise PreconditionRequiredError(
                'say which version you edited: If-Match: "<version>" (the ETag of GET)', parameter="If-Match"
            )
        return body_version
    found = _ETAG.match(if_match)
    if found is None:
        raise InvalidParameterError(
            "If-Match", f'give the one ETag of the version edited, e.g. "3", not {if_match!r}'
        )
    version = int(found.group(1) or found.group(2))
    if body_version is not None and body_version != version:
        raise InvalidParameterError("expected_version", f"is {body_version} but If-Match says {version}")
    return version


def address_headers(response: Response, found: RegistryLookup) -> None:
    """Set ETag (the version) and, for a retired address with a successor, the Link to it."""
    response.headers["ETag"] = f'"{found.address.version}"'
    if found.successor is not None:
        response.headers["Link"] = f'<{address_path(found.successor.registry_code)}>; rel="successor-version"'


def address_answer(conn: Connection, response: Response, registry_code: str) -> AddressDetailFeature:
    """The address as it now stands, with its ETag (and Link to a successor) set on the response."""
    found = lookup_registry(conn, registry_code)
    address_headers(response, found)
    return address_detail(found)

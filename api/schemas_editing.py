"""Request and answer bodies of the editing routes: features written, history, the feed.

A version (:class:`addresses.history.VersionEntry`) and a changeset
(:class:`addresses.history.ChangesetView`) are answered as the domain defines them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from addresses import validation
from addresses.history import VersionEntry

MAX_COMMENT_CHARS = 2000


def _comment(value: str | None) -> str | None:
    """A changeset comment: text the imports would accept too (no control characters)."""
    if value is None:
        return None
    validation.check_text("comment", value)
    return value


class FeatureIn(BaseModel):
    """A new feature: a GeoJSON Feature plus the changeset comment."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] = Field(
        description="A GeoJSON geometry in WGS 84: a Point (addresses, places), a Point or (Multi)Polygon "
        "(villages).",
        examples=[{"type": "Point", "coordinates": [105.339, 20.8175]}],
    )
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description="The dataset's editable fields; `status` (proposed or active) for approvers and admins.",
        examples=[{"house_number": "20", "street": "Cù Chính Lan"}],
    )
    comment: str | None = Field(
        default=None, max_length=MAX_COMMENT_CHARS, description="Why: the changeset comment."
    )
    confirm_duplicate: bool = Field(
        default=False,
        description="Register an address even though an active one with its house number is a few "
        "metres away.",
    )

    _check_comment = field_validator("comment")(_comment)


class FeaturePatch(BaseModel):
    """A change: the fields that change (null clears one), optionally a new geometry, the comment."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None = Field(default=None, description="The new geometry (moves the feature).")
    properties: dict[str, Any] = Field(default_factory=dict, examples=[{"house_number": "20A"}])
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)

    _check_comment = field_validator("comment")(_comment)


class ActionIn(BaseModel):
    """The comment of a retire, restore, approve, reject or revert (required to reject)."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(
        default=None, max_length=MAX_COMMENT_CHARS, examples=["duplicate of 1000-000-013"]
    )
    successor: str | None = Field(
        default=None,
        max_length=40,
        description="Retiring an address: the registry code of the address that replaces it.",
        examples=["1000-000-013"],
    )

    _check_comment = field_validator("comment")(_comment)


class FeatureOut(BaseModel):
    """A feature as stored: GeoJSON with its key as ``id``, version and status in the properties."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureListOut(BaseModel):
    """Features (the approval queue)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeatureOut]


class HistoryOut(BaseModel):
    """Every kept version of a feature, oldest first."""

    dataset: str
    key: str
    version: int
    versions: list[VersionEntry]


class EventOut(BaseModel):
    """One entry of the change feed."""

    seq: int
    changeset_id: int
    dataset: str
    key: str | None = Field(description="The feature's key; null for an import (the whole dataset).")
    version: int | None
    action: str
    time: datetime


class EventPageOut(BaseModel):
    """Events after a number; ask again with ``after=last seq seen``."""

    events: list[EventOut]
    last_seq: int

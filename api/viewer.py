"""The map viewer's files: only those the page loads are served under /static, nothing else.

The npm folder holds whole packages (sources, manifests, tests); the viewer needs the
built Leaflet (its CSS, script and images), the built protomaps-leaflet script and the
built Leaflet-Geoman (the editor's drawing tools: its CSS and script).
Any other path under /static answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Final

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from addresses.errors import NotFoundError

VIEWER_FILES: Final = frozenset(
    {
        "index.html",
        "app.css",
        "app.js",
        "grid.js",
        "editor.js",
        "node_modules/protomaps-leaflet/dist/protomaps-leaflet.js",
        "node_modules/protomaps-leaflet/dist/protomaps-leaflet.js.map",
        "node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
        "node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
        "node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js.map",
    }
)
"""Files the viewer loads, relative to the static folder."""
VIEWER_FOLDERS: Final = ("node_modules/leaflet/dist/",)
"""Folders whose files the viewer may load (Leaflet's CSS names its images by relative path)."""


def viewer_needs(path: str) -> bool:
    """Whether the viewer loads the file at ``path`` (normalised, relative to /static).

    >>> viewer_needs("app.js"), viewer_needs("node_modules/leaflet/dist/images/marker-icon.png")
    (True, True)
    >>> viewer_needs("package.json"), viewer_needs("node_modules/pbf/index.js")
    (False, False)
    """
    return path in VIEWER_FILES or path.startswith(VIEWER_FOLDERS)


class ViewerFiles(StaticFiles):
    """StaticFiles serving only the files of :func:`viewer_needs`."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file, or 404 when the viewer does not need it (whether it exists or not)."""
        if not viewer_needs(path.replace("\\", "/")):
            raise NotFoundError(f"the viewer has no file {path!r}")
        return await super().get_response(path, scope)

"""Folium maps that work offline: Leaflet and jQuery from the app's own npm packages, inlined.

folium loads Leaflet, jQuery, Bootstrap and marker icon fonts from CDNs, so its maps
are blank on an intranet. :func:`use_local_assets` makes every map carry what it needs
in its own HTML: Leaflet (with its images) and jQuery, read from
``api/static/node_modules`` (``npm ci --prefix api/static``; ``make install`` does it).
Bootstrap and the awesome-markers icons are left out: draw points with
``folium.CircleMarker`` (vector paths), not ``folium.Marker`` icons. Maps have no
background tiles (``tiles=None``); the communes' polygons are the background.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium

import api

NODE_MODULES = Path(api.__file__).resolve().with_name("static") / "node_modules"
LEAFLET = NODE_MODULES / "leaflet" / "dist"
JQUERY = NODE_MODULES / "jquery" / "dist" / "jquery.min.js"


def data_uri(content: bytes, mime: str) -> str:
    """A ``data:`` URI holding ``content``.

    >>> data_uri(b"ok", "text/plain")
    'data:text/plain;base64,b2s='
    """
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _read(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `npm ci --prefix api/static` in the repository")
    return path.read_bytes()


def leaflet_css() -> str:
    """Leaflet's stylesheet with its images (layer switcher, default marker) inlined."""
    css = _read(LEAFLET / "leaflet.css").decode("utf-8")

    def inline(found: re.Match[str]) -> str:
        return f"url({data_uri(_read(LEAFLET / found.group(1)), 'image/png')})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def use_local_assets() -> None:
    """Make every folium map from now on load only the inlined Leaflet and jQuery."""
    folium.Map.default_js = [
        ("leaflet", data_uri(_read(LEAFLET / "leaflet.js"), "text/javascript")),
        ("jquery", data_uri(_read(JQUERY), "text/javascript")),
    ]
    folium.Map.default_css = [("leaflet_css", data_uri(leaflet_css().encode("utf-8"), "text/css"))]


def remote_links(html: str) -> list[str]:
    """The ``src``/``href`` URLs of a page that would need the network.

    >>> remote_links('<script src="https://cdn.example/x.js"></script><a href="#x">')
    ['https://cdn.example/x.js']
    """
    return re.findall(r"""(?:src|href)=["'](https?://[^"']+|//[^"']+)""", html)


def save(figure: folium.Map, path: str | Path) -> Path:
    """Save a map as one self-contained HTML file, refusing any link to the network."""
    html = figure.get_root().render()
    remote = remote_links(html)
    if remote:
        raise ValueError(f"the map would load from the network: {remote}")
    target = Path(path)
    target.write_text(html, encoding="utf-8")
    return target

"""Vector tiles (MVT) built in PostGIS for the map viewer.

- ``tilematrix``: Web Mercator XYZ tile arithmetic (pure, doctested)
- ``layers``: the five layers, their rows, attributes and zooms
- ``mvt``: one tile as one SQL statement (ST_TileEnvelope, ST_AsMVTGeom, ST_AsMVT)
- ``tilejson``: TileJSON 3.0.0 documents
- ``cache``: an LRU of encoded tiles bounded by bytes, evicted by box
- ``invalidation``: what changed since a watermark, from ``tile_invalidation``
- ``store``: cache + invalidation for a server process (polls at most once a second)
- ``retention``: deletes ``tile_invalidation`` records older than the retention, in the background
"""

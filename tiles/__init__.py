"""Vector tiles (MVT) built in PostGIS for the map viewer."""

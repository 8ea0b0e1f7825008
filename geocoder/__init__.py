"""Geocoder: text normalisation, address parsing, forward/reverse search and batch runs."""

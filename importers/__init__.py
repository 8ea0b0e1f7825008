"""Importers: read agency files, validate them, transform their CRS and bulk-load them."""

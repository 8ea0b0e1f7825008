"""The web layer (FastAPI), the map viewer and the command line of diachiso."""

"""The data model, the database and the digital address codes of diachiso."""

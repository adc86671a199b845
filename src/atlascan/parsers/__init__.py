"""Small parsers of our own for file formats that have no position-keeping library."""

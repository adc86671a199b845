"""`atlascan server`: a Language Server Protocol front end (pygls, the `[lsp]` extra).

`analyse` scans one editor buffer through the ordinary flow (no pygls); `server` turns its
findings into diagnostics, code actions and hovers.
"""

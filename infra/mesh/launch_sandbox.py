"""Start NHS's mesh-sandbox with CP-IS's own mailboxes and workflows (infra/mesh/data).

mesh-sandbox reads mailboxes.jsonl and workflows.jsonl from the folder beside its
canned_store module; there is no setting for it, so point the module's __file__ at ours
before the app builds its store. Usage: python launch_sandbox.py HOST PORT
"""

import pathlib
import sys

import uvicorn
from mesh_sandbox.store import canned_store

DATA = pathlib.Path(__file__).resolve().parent / "data"
canned_store.__file__ = str(DATA.parent / "canned_store.py")  # data/ beside it

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run("mesh_sandbox.api:app", host=host, port=port, workers=1, log_level="warning")

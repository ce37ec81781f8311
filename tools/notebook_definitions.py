"""Load the cells of A4.ipynb tagged `definitions` (nothing that trains) as a module.

The notebook stays the single source of the code; tests and benchmarks use it through this.
"""
import json
import sys
import types
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "A4.ipynb"


def load_definitions(path=NOTEBOOK, name="a4_definitions"):
    notebook = json.loads(Path(path).read_text())
    module = types.ModuleType(name)
    sys.modules[name] = module    # dataclasses look their module up here
    cells = [c for c in notebook["cells"]
             if c["cell_type"] == "code" and "definitions" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ValueError(f"{path} has no code cells tagged 'definitions'")
    for index, cell in enumerate(cells):
        exec(compile("".join(cell["source"]), f"A4.ipynb[definitions {index}]", "exec"), module.__dict__)
    return module

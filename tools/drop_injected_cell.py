"""Remove the cell papermill injects (tagged `injected-parameters`) from executed notebooks.

`papermill A4.ipynb A4.ipynb -p DATA_DIR ...` runs the notebook with those values and keeps its
outputs, but leaves a cell that sets them below the `parameters` cell. A copy given to others
(uploaded to Colab, run with Run all) would then read a data folder that exists only on the
machine that ran it. This keeps the outputs and drops that cell; the values stay recorded in the
notebook's metadata (`metadata.papermill.parameters`).

    python tools/drop_injected_cell.py A4.ipynb
"""
import argparse
import sys

import nbformat

INJECTED = "injected-parameters"


def drop_injected_cells(notebook):
    """The notebook without its injected-parameters cells; returns how many were removed."""
    kept = [c for c in notebook.cells if INJECTED not in c.get("metadata", {}).get("tags", [])]
    removed = len(notebook.cells) - len(kept)
    notebook.cells = kept
    return removed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="executed notebooks, rewritten in place")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        removed = drop_injected_cells(notebook)
        if removed:
            nbformat.write(notebook, path)
        parameters = notebook.metadata.get("papermill", {}).get("parameters", {})
        print(f"{path}: {removed} injected-parameters cell(s) removed"
              + (f"; it was executed with {parameters}" if parameters else ""))


if __name__ == "__main__":
    sys.exit(main())

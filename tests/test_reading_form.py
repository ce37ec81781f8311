"""The notebook's reading form: the assignment first, one concept per cell with its check below it,
support code collapsed and left out of the PDF's code."""
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from conftest import NOTEBOOK, ROOT

# The shown code before Task 1 holds what a grader checks: the rotation, freezing, loading the trunk,
# the schedule and the optimiser step, one epoch, the evaluation and the run.
MAX_CODE_LINES_BEFORE_TASK1 = 385
MAX_READER_CELL_LINES = 50


def cells():
    return json.loads(NOTEBOOK.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def export_config():
    loader = PyFileConfigLoader("pdf_export_config.py", path=str(ROOT / "tools"))
    return loader.load_config()


def index_of(pattern, kind="code"):
    matches = [i for i, c in enumerate(cells()) if c["cell_type"] == kind and re.search(pattern, source(c), re.M)]
    assert matches, f"no {kind} cell matches {pattern!r}"
    return matches[0]


def test_support_cells_are_collapsed_titled_loaded_and_say_what_they_hold():
    support = [c for c in cells() if "support" in tags(c)]
    assert len(support) >= 6
    for cell in support:
        text = source(cell)
        assert cell["cell_type"] == "code" and "definitions" in tags(cell)      # the tests still load them
        assert cell["metadata"]["jupyter"]["source_hidden"] is True            # Jupyter: collapsed
        assert cell["metadata"]["cellView"] == "form" and text.startswith("# @title ")   # Colab: a form
        assert len(re.findall(r'^print\("support: ', text, re.M)) == 1 and text.rstrip().endswith(")")


def test_the_pdf_shows_at_most_385_code_lines_before_task_1s_first_result():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    task1 = index_of(r'experiment\.run\("rotation"')
    assert index_of(r"^## 6\. Task 1", "markdown") < task1
    shown = [c for c in notebook.cells[:task1 + 1] if c.cell_type == "code" and "support" not in tags(c)]
    lines = sum(len(c.source.splitlines()) for c in shown)
    hidden = sum(len(c.source.splitlines()) for c in notebook.cells[:task1] if "support" in tags(c))
    assert lines <= MAX_CODE_LINES_BEFORE_TASK1 and hidden > lines / 2, (lines, hidden)


def test_pdf_export_leaves_out_support_code_and_keeps_its_one_line():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    html, _ = HTMLExporter(config=export_config()).from_notebook_node(notebook)
    assert "resolve_preset" in html                    # named in the support cell's printed line...
    assert 'class="nf">resolve_preset<' not in html       # ...but its code is left out
    assert 'class="nf">train_run<' in html                # reader cells keep theirs
    bare, _ = HTMLExporter(config=Config()).from_notebook_node(notebook)
    assert 'class="nf">resolve_preset<' in bare           # the check above can fail


def test_offline_the_pdf_export_loads_a_local_mathjax_with_a_configuration_it_has():
    mathjax = pytest.importorskip("jupyter_server_mathjax")
    url = export_config().HTMLExporter.mathjax_url
    script, _, options = url.partition("?config=")
    static = Path(mathjax.__file__).parent / "static"
    assert script == (static / "MathJax.js").as_uri()
    for name in options.split(","):           # a configuration MathJax lacks leaves raw TeX in the PDF
        assert (static / "config" / f"{name}.js").is_file(), name


def test_reader_cells_are_short_and_each_follows_a_text_cell():
    for i, cell in enumerate(cells()):
        if cell["cell_type"] != "code" or "support" in tags(cell) or "parameters" in tags(cell):
            continue
        assert len(source(cell).splitlines()) <= MAX_READER_CELL_LINES, source(cell)[:200]
        before = [c for c in cells()[:i] if "support" not in tags(c)]
        assert before[-1]["cell_type"] == "markdown" or "definitions" in tags(before[-1]), source(cell)[:200]


def test_part_one_is_the_assignment_in_order_and_part_two_the_extra_credit():
    headings = [line for c in cells() if c["cell_type"] == "markdown"
                for line in source(c).splitlines() if re.match(r"#{1,2} ", line)]
    expected = ["# Part I", "## 0. Parameters", "## 1. Set-up", "## 2. Data", "## 3. Rotations",
                "## 4. Model and freezing", "## 5. One training loop", "## 6. Task 1", "## 7. Task 2",
                "## 8. Task 3", "## 9. Summary", "# Part II", "## 10. Few labels", "## 11. A stronger backbone",
                "## 12. Rotation on Imagenette", "# Part III", "## 13. Inside the two networks"]
    positions = [next((i for i, h in enumerate(headings) if h.startswith(e)), None) for e in expected]
    assert None not in positions and positions == sorted(positions), list(zip(expected, positions))


def test_each_concept_is_followed_by_its_check():
    def check_follows(definition, check, next_heading):
        assert index_of(definition) < index_of(check) < index_of(next_heading, "markdown")
    check_follows(r"^def rotation_batch", r"^show_rotation_examples\(", r"^## 4\.")
    check_follows(r"^def set_train_mode", r"requires_grad\b.*\n.*total = sum", r"^## 5\.")
    check_follows(r"^def make_optimizer", r"^plot_lr_schedule\(", r"^## 6\.")
    check_follows(r"^def random_crop_flip", r'^print\(f"images per class', r"^## 3\.")

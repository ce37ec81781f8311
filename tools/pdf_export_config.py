# nbconvert configuration of the notebook's PDF (tools/export_pdf.sh): the code of the cells tagged
# `support` is left out; their one printed line stays and says what the collapsed cell holds.
c = get_config()  # noqa: F821 (nbconvert's config loader provides it)
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_input_tags = {"support"}
# Equations: nbconvert's HTML loads MathJax from a CDN, which an offline machine cannot reach (the PDF
# then shows raw TeX). Where the jupyter-server-mathjax package is installed, its local copy is used.
try:
    from pathlib import Path

    import jupyter_server_mathjax
    local = Path(jupyter_server_mathjax.__file__).parent / "static" / "MathJax.js"
    c.HTMLExporter.mathjax_url = local.as_uri() + "?config=TeX-AMS-MML_HTMLorMML-full,Safe"
except ImportError:
    pass

# nbconvert configuration of the notebook's PDF (tools/export_pdf.sh): the code of the cells tagged
# `support` is left out; their one printed line stays and says what the collapsed cell holds.
c = get_config()  # noqa: F821 (nbconvert's config loader provides it)
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_input_tags = {"support"}

#!/usr/bin/env bash
# The executed notebook and the report as PDF files in pdf/: HTML first (nbconvert, pandoc), then
# printed by headless Chromium. Needs Debian's (or any) chromium and pandoc:
#   apt-get install chromium pandoc
# Offline, `pip install jupyter-server-mathjax` lets the equations render (tools/pdf_export_config.py).
# Usage: bash tools/export_pdf.sh [NOTEBOOK] [REPORT]      (defaults: A4.ipynb report.md)
set -euo pipefail
cd "$(dirname "$0")/.."
notebook=${1:-A4.ipynb}
report=${2:-report.md}
out=pdf
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chrome" ] || { echo "no chromium found: apt-get install chromium (or set PATH)" >&2; exit 1; }
command -v pandoc >/dev/null || { echo "no pandoc found: apt-get install pandoc" >&2; exit 1; }
[ -f "$notebook" ] || { echo "no notebook $notebook" >&2; exit 1; }
[ -f "$report" ] || { echo "no report $report" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m jupyter nbconvert --to html --config tools/pdf_export_config.py --no-prompt --embed-images --output-dir "$work" --output notebook "$notebook" >/dev/null
# Print layout: wrap long code and output lines instead of cutting them at the page edge.
python3 - "$work/notebook.html" <<'PY'
import sys
path = sys.argv[1]
# Cells may break across pages (keeping each whole left half-empty pages); figures and headings may not.
# A figure is at most 80 mm high, so that a wide figure and the text around it share a page; code is
# set at 9 pt, the smallest that reads comfortably on paper, and cells sit close.
css = ("<style>@media print { pre, .jp-RenderedText pre, .highlight pre { white-space: pre-wrap !important;"
       " word-break: break-word; font-size: 9pt !important; line-height: 1.2 !important; } .jp-OutputArea-output img { break-inside: avoid;"
       " max-height: 80mm; width: auto !important; max-width: 100%; } .jp-RenderedHTMLCommon { font-size: 9.5pt; }"
       " .jp-Cell { padding-top: 1px !important; padding-bottom: 1px !important; }"
       " .jp-RenderedHTMLCommon p { margin-bottom: 0.6em !important; }"
       " h1, h2, h3 { break-after: avoid-page; } @page { size: A4; margin: 12mm; } }</style>")
html = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(html.replace("</head>", css + "</head>", 1))
PY
pandoc "$report" --standalone --self-contained --resource-path=. --metadata pagetitle="$(basename "$report" .md)" \
    --css tools/report.css -o "$work/report.html"

print() {  # print HTML file $1 to PDF file $2
    "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile" --no-pdf-header-footer --virtual-time-budget=10000 \
        --print-to-pdf="$2" "file://$1" 2>/dev/null
    [ -s "$2" ] || { echo "chromium wrote no $2" >&2; exit 1; }
    echo "written $2"
}
print "$work/notebook.html" "$out/$(basename "$notebook" .ipynb).pdf"
print "$work/report.html" "$out/$(basename "$report" .md).pdf"

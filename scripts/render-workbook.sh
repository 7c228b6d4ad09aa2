#!/usr/bin/env bash
# Renders a report workbook's Summary sheet (tables and native charts) to a PNG with LibreOffice
# headless, to look at what a reader's spreadsheet program draws. Not part of `npm test`.
#
#   scripts/render-workbook.sh reports/<report id>/validations.xlsx [summary.png]
#
# Needs: apt-get install -y libreoffice-calc-nogui poppler-utils
# The Summary is the workbook's first tab; it is exported as one PDF page (SinglePageSheets) and
# only that page is kept (PageRange), then rasterised by pdftoppm.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 WORKBOOK.xlsx [OUT.png]" >&2
  exit 2
fi
workbook="$1"
out="${2:-${workbook%.xlsx}-summary.png}"
if [ ! -f "$workbook" ]; then
  echo "$0: no such file: $workbook" >&2
  exit 2
fi
for tool in soffice pdftoppm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: $tool not found; install it: apt-get install -y libreoffice-calc-nogui poppler-utils" >&2
    exit 2
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$workbook" "$work/workbook.xlsx"
# A profile of its own: a LibreOffice already running (or another render) cannot block this one.
soffice --headless "-env:UserInstallation=file://$work/profile" \
  --convert-to 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"},"PageRange":{"type":"string","value":"1"}}' \
  --outdir "$work" "$work/workbook.xlsx" >"$work/soffice.log" 2>&1 || {
  cat "$work/soffice.log" >&2
  exit 1
}
if [ ! -s "$work/workbook.pdf" ]; then
  echo "$0: LibreOffice wrote no PDF:" >&2
  cat "$work/soffice.log" >&2
  exit 1
fi
pdftoppm -png -r 110 -f 1 -l 1 -singlefile "$work/workbook.pdf" "$work/summary"
mv "$work/summary.png" "$out"
echo "$out"

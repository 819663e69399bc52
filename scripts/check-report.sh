#!/usr/bin/env bash
# Checks a `napkit report` page in a real browser (headless Chromium):
#  - every local file the page links or shows exists, and every figure is a
#    whole PNG (signature first, IEND last);
#  - in Chromium, every <img> has loaded (complete, naturalWidth > 0) and every
#    table-of-contents anchor has its section; a small harness page next to the
#    report reads the page through an iframe (file:// access allowed) and its
#    DOM is dumped after load;
#  - a screenshot of the top of the page is written to DIR/screenshot.png.
# Usage: check-report.sh DIR   (Chromium: `bash scripts/install-deps.sh browser`)
# Exits 1 with the broken items listed when anything is missing or broken.
set -euo pipefail
dir=${1:?usage: check-report.sh REPORT_DIR}
page=$dir/index.html
[ -f "$page" ] || { echo "check-report: $page does not exist (run napkit report first)" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "check-report: no chromium (bash scripts/install-deps.sh browser)" >&2; exit 1; }
fail=0

# 1. Files: every src/href that is not an anchor or a URL must exist; figures must be PNGs.
refs=$(grep -oE '(src|href)="[^"#][^"]*"' "$page" | sed -E 's/^(src|href)="(.*)"$/\2/' | grep -vE '^[a-z]+:' | sort -u)
n_refs=0
while IFS= read -r ref; do
  [ -n "$ref" ] || continue
  n_refs=$((n_refs + 1))
  f=$dir/$(printf '%s' "$ref" | sed 's/&amp;/\&/g')
  if [ ! -e "$f" ]; then echo "check-report: missing: $ref" >&2; fail=1; continue; fi
  case "$ref" in
    *.png) # PNG signature first, IEND chunk last: a whole file, not a cut one
      [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
        [ "$(tail -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 49454e44ae426082 ] ||
        { echo "check-report: not a whole PNG: $ref" >&2; fail=1; } ;;
  esac
done <<< "$refs"

# 2. The browser: images loaded, anchors resolved.
harness=$dir/.check-report.html
profile=$(mktemp -d /tmp/napkit-chromium.XXXXXX)
trap 'rm -rf "$profile" "$harness"' EXIT
cat > "$harness" <<'HTML'
<!DOCTYPE html><html><body><iframe id=f src="index.html" style="width:1200px;height:900px"></iframe>
<pre id=out>NOT-LOADED</pre><script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, out = document.getElementById('out');
  if (!d) { out.textContent = 'NO-ACCESS'; return; }
  var bad = [], imgs = d.images, missing = [], links = d.querySelectorAll('a[href^="#"]');
  for (var i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad.push(imgs[i].getAttribute('src'));
  for (var j = 0; j < links.length; j++) {
    var id = links[j].getAttribute('href').slice(1);
    if (!d.getElementById(id)) missing.push(id);
  }
  out.textContent = 'RESULT images=' + imgs.length + ' broken=' + bad.length + ' sections=' +
    d.querySelectorAll('h2[id],h3[id]').length + ' missing-anchors=' + missing.length +
    (bad.length ? ' BROKEN: ' + bad.join(' ') : '') + (missing.length ? ' MISSING: ' + missing.join(' ') : '');
};
</script></body></html>
HTML
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile")
abs=$(cd "$dir" && pwd)
result=$(timeout 180 "$browser" "${flags[@]}" --allow-file-access-from-files --virtual-time-budget=20000 \
           --dump-dom "file://$abs/.check-report.html" 2>/dev/null | tr '\n' ' ' | sed -nE 's|.*<pre id="out">([^<]*)</pre>.*|\1|p' || true)
echo "check-report: chromium: ${result:-no result}"
case "$result" in
  "RESULT images="*" broken=0 "*" missing-anchors=0") ;;
  *) echo "check-report: the page did not render cleanly in Chromium" >&2; fail=1 ;;
esac
images=$(sed -nE 's/.*images=([0-9]+).*/\1/p' <<< "$result")
[ "${images:-0}" -gt 0 ] || { echo "check-report: the page shows no figures" >&2; fail=1; }

# 3. A screenshot of the top of the page, to look at.
timeout 180 "$browser" "${flags[@]}" --hide-scrollbars --window-size=1280,4000 \
  --screenshot="$abs/screenshot.png" "file://$abs/index.html" > /dev/null 2>&1 || true
[ -s "$dir/screenshot.png" ] || { echo "check-report: no screenshot" >&2; fail=1; }

[ "$fail" -eq 0 ] && echo "check-report: ok: $n_refs linked files, ${images:-0} figures loaded; screenshot $dir/screenshot.png"
exit $fail

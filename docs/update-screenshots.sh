#!/usr/bin/env bash
# Renews the teachers' guides' pictures (docs/img/, shown by docs/lehrkraefte.md and
# docs/teachers-guide.md): runs the browser tests that take them (tests/e2e/run.sh scales the
# ones the guides use into WORK/guide/ and checks them), then copies those into docs/img/.
# Not run by CI (CI only checks that the pictures exist and that the tests still take them).
#   docs/update-screenshots.sh [TAFEL_BIN [WORK_DIR]]   defaults: build/tafel, build/guide.work
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tafel=$(realpath "${1:-$root/build/tafel}")
work=$(realpath -m "${2:-$root/build/guide.work}")
[ -x "$tafel" ] || { echo "update-screenshots: no tafel binary at $tafel (build first)"; exit 1; }

# The test files that take the pictures the guides show (found by name, so a new picture in a
# new test needs no change here).
names=$(grep -ho '](img/[^)]*\.png)' "$root/docs/lehrkraefte.md" "$root/docs/teachers-guide.md" |
  sed 's/^](img\///; s/)$//' | sort -u)
tests=$(for n in $names; do grep -l -- "'$n'" "$root"/tests/e2e/*.test.js || true; done | sort -u)
[ -n "$tests" ] || { echo "update-screenshots: no test takes the guides' pictures"; exit 1; }
echo "update-screenshots: running $(echo $tests | xargs -n1 basename | tr '\n' ' ')"

rm -rf "$work/guide"
TAFEL_GUIDE_UPDATE=1 TAFEL_E2E_ONLY=$(echo $tests) "$root/tests/e2e/run.sh" "$tafel" "$work"

mkdir -p "$root/docs/img"
for n in $names; do
  cp "$work/guide/$n" "$root/docs/img/$n"
done
echo "update-screenshots: $(echo $names | wc -w) pictures in docs/img/:"
(cd "$root/docs/img" && ls -l $names | awk '{print "  " $5 " bytes  " $9}')
# The same checks CI makes, now against the new docs/img/.
node --test "$root/tests/e2e/guide-images.js" >/dev/null || {
  echo "update-screenshots: docs/img/ fails tests/e2e/guide-images.js:"; node --test "$root/tests/e2e/guide-images.js"; exit 1; }

#!/usr/bin/env bash
# The Python package from scratch (issue 24): builds the wheel with maturin (in a
# throwaway venv; cargo's target/ is reused, so after `cargo build --release` only the
# packaging is left), installs it with pytest into a fresh venv, and runs the example tests
# (examples/pytest/, one per provider) and the package's own tests (python/tests/) from a
# temporary folder against the INSTALLED package and binary: the plugin comes from its
# pytest11 entry point and the server from the venv's bin/, nothing from this checkout.
#
# usage: ci/python-package.sh
# A helper whose endpoint a simulator lacks skips its test outside CI; here
# (SIGNSIM_STRICT=1 unless set) it fails. The script fails when no test passed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

work="$(mktemp -d /tmp/signsim-python.XXXXXX)"
trap 'rm -rf "$work"' EXIT
pip_quiet=(--quiet --disable-pip-version-check)

echo "== python package: build the wheel (maturin build --release)"
python3 -m venv "$work/build"
"$work/build/bin/pip" install "${pip_quiet[@]}" "maturin==1.16.0"
start=$(date +%s)
"$work/build/bin/maturin" build --release --locked --out "$work/dist" 2>&1 | grep -v '^ *Compiling ' || true
wheel="$(ls "$work"/dist/signsim-*.whl 2>/dev/null | head -n 1)"
[ -n "$wheel" ] || { echo "python package: maturin made no wheel" >&2; exit 1; }
echo "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $(( $(date +%s) - start )) s"

echo "== python package: install the wheel and pytest into a fresh venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install "${pip_quiet[@]}" "$wheel" "pytest>=7"
# The command is the wheel's binary, beside the venv's python.
test -x "$work/venv/bin/signsim"
"$work/venv/bin/signsim" --version
"$work/venv/bin/python" -c 'import signsim, signsim.pytest_plugin; print("signsim package at", signsim.__file__)'

echo "== python package: the examples and the package's tests, from the installed package"
mkdir "$work/tests"
cp "$repo"/examples/pytest/test_*.py "$repo"/python/tests/test_*.py "$work/tests/"
cd "$work/tests"
# The installed binary only (not one named by the caller's environment).
unset SIGNSIM_BIN SIGNSIM_URL SIGNSIM_ARGS
export SIGNSIM_STRICT="${SIGNSIM_STRICT:-1}"
status=0
"$work/venv/bin/python" -m pytest -p pytester -p no:cacheprovider -q -rs \
  --junitxml="$work/report.xml" . || status=$?
# pytest fails on a failure and on an empty run; also refuse a run where nothing passed
# (every test skipped).
"$work/venv/bin/python" - "$work/report.xml" <<'PY' || status=1
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
ran = int(suite.get("tests", 0))
skipped, failed = int(suite.get("skipped", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
passed = ran - skipped - failed
print(f"python package: {passed} passed, {skipped} skipped, {failed} failed")
sys.exit(0 if passed > 0 else 1)
PY
exit "$status"

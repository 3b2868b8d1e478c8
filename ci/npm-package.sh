#!/usr/bin/env bash
# Proves the npm package installs from scratch and works: packs ./npm (with the release
# binary), installs the tarball and Vitest into a fresh npm project in a temp dir, then runs
# `npx signsim --help`, the CJS smoke check and examples/node/*.test.mjs from the INSTALLED
# package. Fails if the example tests ran no test at all (e.g. every one skipped).
#
#   ci/npm-package.sh          (SIGNSIM_PACK_BINARY=path packs another binary)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# cargo decides what is needed: nothing when target/release/signsim is fresh, so a stale
# binary is never packed.
if [[ -z "${SIGNSIM_PACK_BINARY:-}" ]]; then
    echo "npm-package: cargo build --release" >&2
    cargo build --release --locked --bin signsim
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/signsim-npm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/pack" "$work/project"

# The package runs its own binary, not one from the environment.
unset SIGNSIM_BIN SIGNSIM_URL

echo "npm-package: npm pack" >&2
npm pack ./npm --pack-destination "$work/pack" --json > "$work/pack.json"
tarball=$(ls "$work"/pack/signsim-*.tgz)
# Nothing in the tarball but the package's own files.
node -e '
const [{ files }] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const allowed = new Set(["package.json", "README.md", "LICENSE", "bin/signsim.js", "index.js",
  "index.mjs", "index.d.ts", "index.d.mts", "vendor/signsim", "vendor/signsim.exe"]);
const extra = files.map((f) => f.path).filter((p) => !allowed.has(p));
if (extra.length) { console.error("unexpected files in the tarball:", extra); process.exit(1); }
if (!files.some((f) => f.path.startsWith("vendor/signsim"))) {
  console.error("the tarball carries no binary"); process.exit(1);
}
console.error(`npm-package: ${files.length} files: ${files.map((f) => f.path).join(", ")}`);
' "$work/pack.json"

cd "$work/project"
npm init -y > /dev/null
npm install --no-audit --no-fund "$tarball" vitest@4 > "$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }
cp "$root"/examples/node/*.test.mjs "$root"/examples/node/*.cjs .

echo "npm-package: npx signsim --help" >&2
npx --no-install signsim --help > "$work/help.txt"
head -3 "$work/help.txt"
npx --no-install signsim --version

echo "npm-package: require smoke" >&2
node require-smoke.cjs

echo "npm-package: vitest" >&2
npx --no-install vitest run --reporter=default --reporter=json --outputFile="$work/vitest.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.error(`npm-package: ${r.numPassedTests} passed, ${r.numPendingTests} skipped, ` +
  `${r.numFailedTests} failed of ${r.numTotalTests}`);
if (!r.success || r.numPassedTests === 0) process.exit(1);
' "$work/vitest.json"

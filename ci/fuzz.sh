#!/usr/bin/env bash
# Fuzzes signsim's parsers for a bounded time and fails on a crash (issue 14).
#
#   ci/fuzz.sh                  every target, FUZZ_SECONDS (default 20) each
#   ci/fuzz.sh pdf hashfile     only those
#
# Targets (fuzz/fuzz_targets/): pdf (check_pdf and the PAdES signer), appearance (an
# uploaded PNG in a visible signature), fields (the shared JSON/form/multipart reader),
# hashfile (Uanataca's), scenarios (the scenario loader), bodies (every provider's body
# extractors through the whole app, and the shape of what they answer). Seeds are in
# fuzz/corpus/<target>/; each run works on a copy, so the committed corpus stays small.
# A crash leaves its input in fuzz/artifacts/<target>/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> -O -a -s none fuzz/artifacts/<target>/<file>
#
# cargo-fuzz needs nightly flags (-Z); RUSTC_BOOTSTRAP=1 lets the stable toolchain take
# them. No sanitizer: the code is safe Rust, and ASan would triple the build time on two
# cores; debug assertions (-a) stay on so that overflows panic as they do in tests.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(pdf appearance fields hashfile scenarios bodies)
fi
export RUSTC_BOOTSTRAP=1
flags=(-O -a -s none --codegen-units 16)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

echo "== fuzz: format"
cargo fmt --check --manifest-path fuzz/Cargo.toml

echo "== fuzz: build"
start=$SECONDS
cargo fuzz build "${flags[@]}"
echo "built in $((SECONDS - start)) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for target in "${targets[@]}"; do
  echo "== fuzz: $target (${seconds} s)"
  mkdir -p "$work/$target" "fuzz/artifacts/$target"
  cp fuzz/corpus/"$target"/* "$work/$target/"
  log="$work/$target.log"
  # -rss_limit_mb: the bodies target keeps an app whose state grows with what it is sent.
  if ! cargo fuzz run "${flags[@]}" "$target" "$work/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
    status=1
    echo "!! $target crashed:"
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -20 || tail -40 "$log"
  fi
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  corpus=$(ls "$work/$target" | wc -l)
  echo "$target: ${runs:-?} executions in ${seconds} s, corpus ${corpus} inputs"
done
exit "$status"

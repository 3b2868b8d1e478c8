#!/usr/bin/env bash
# What the Docker image holds, tried without Docker: a root folder with ONLY what
# gcr.io/distroless/cc-debian12:nonroot provides (glibc, libgcc_s, libm, the loader,
# /etc/passwd and /etc/group with the nonroot user 65532, /etc/nsswitch.conf, the
# ca-certificates bundle, a writable /tmp) plus the binary, run as 65532:65532 with chroot.
# From outside, a Uanataca classic flow gets a signed PDF and a QI Tech webhook reaches a
# receiver named by host name (receiver.test, in the chroot's /etc/hosts as Docker would
# write it). Also runs `signsim healthcheck` inside, as the image's HEALTHCHECK does.
#
# usage: ci/chroot-test.sh            (builds the release binary)
#        SIGNSIM_BIN=path ci/chroot-test.sh   (tries that binary instead)
# Needs root (chroot), python3, ldd.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  # .ci/run sets SIGNSIM_REQUIRE_CHROOT=1: there a skip is a failure.
  echo "chroot-test: needs root for chroot; skipped" >&2
  [ "${SIGNSIM_REQUIRE_CHROOT:-}" = 1 ] && exit 1
  exit 0
fi

bin="${SIGNSIM_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet
  bin=target/release/signsim
fi

root="$(mktemp -d /tmp/signsim-chroot.XXXXXX)"
chmod 0755 "$root"
work="$(mktemp -d /tmp/signsim-chroot-out.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$root" "$work"
}
trap cleanup EXIT

# The binary, stripped as the Dockerfile strips it.
install -D -m 0755 "$bin" "$root/usr/local/bin/signsim"
strip "$root/usr/local/bin/signsim" 2>/dev/null || true
# Its shared libraries, exactly what ldd lists (distroless/cc has each of them); anything
# else it listed would be missing from the image, so say so.
while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.6|libgcc_s.so.1|libm.so.6|ld-linux-x86-64.so.2|ld-linux-aarch64.so.1|libpthread.so.0|libdl.so.2|librt.so.1) ;;
    *) echo "chroot-test: FAIL the binary needs $lib, which distroless/cc does not hold" >&2; exit 1 ;;
  esac
  install -D -m 0755 "$lib" "$root$lib"
done < <(ldd "$root/usr/local/bin/signsim" | grep -o '/[^ ]*')

# What distroless's base layer writes.
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
chmod 1777 "$root/tmp"
chown 65532:65532 "$root/home/nonroot"
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
GROUP
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# What the Dockerfile adds: the CA's folder, owned by the non-root user (a named volume
# mounted there starts with that owner).
mkdir -p "$root/certs"
chown 65532:65532 "$root/certs"
# What Docker writes at run time (not part of the image).
printf '127.0.0.1 localhost\n127.0.0.1 receiver.test\n' > "$root/etc/hosts"

echo "== chroot holds $(find "$root" -type f | wc -l) files, $(du -sh "$root" | cut -f1)"
find "$root" -type f | sed "s|^$root|   |" | sort

chroot_bin="$(command -v chroot)"
run() {
  env -i SIGNSIM_HOST=127.0.0.1 SIGNSIM_PORT="${port:-0}" RUST_LOG=warn \
    "$chroot_bin" --userspec=65532:65532 "$root" /usr/local/bin/signsim "$@"
}

# Backgrounded through `exec`, so that $! is the server itself (not a subshell whose
# child would outlive the kill in cleanup).
serve_in_root() {
  exec env -i SIGNSIM_HOST=127.0.0.1 SIGNSIM_PORT=0 RUST_LOG=warn \
    "$chroot_bin" --userspec=65532:65532 "$root" /usr/local/bin/signsim serve "$@"
}
serve_in_root --seed 1 --ca-dir /certs > "$work/stdout" 2> "$work/stderr" &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url="$(sed -n 's/^signsim //p' "$work/stdout" | head -n1)"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; echo "chroot-test: FAIL the server stopped" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "chroot-test: FAIL no address announced" >&2; exit 1; }
echo "== serving at $url as 65532:65532"

port="${url##*:}" run healthcheck
[ -s "$root/certs/ca.key" ] || { echo "chroot-test: FAIL the CA was not kept in /certs" >&2; exit 1; }
python3 ci/chroot_flow.py "$url" "$work"
if python3 -c "import pyhanko" 2>/dev/null; then
  curl -sf "$url/_signsim/ca.pem" -o "$work/ca.pem"
  python3 ci/validate_pdf.py "$work/ca.pem" "$work/signed.pdf"
fi
if grep -q "ERROR\|panicked" "$work/stderr"; then
  cat "$work/stderr" >&2
  echo "chroot-test: FAIL errors in the log" >&2
  exit 1
fi
echo "== binary: $(stat -c %s "$root/usr/local/bin/signsim") bytes stripped"
echo "chroot-test: OK"

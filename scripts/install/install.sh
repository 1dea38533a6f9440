#!/usr/bin/env bash
# Installs the paydown binary for the action (action.yml), on Linux, macOS
# and Windows runners (Git Bash). See docs/action.md.
#
# The release to install, the repository it comes from and the SHA-256 of
# every archive are read from the checksum table committed next to this
# script (release-checksums.txt), so pinning the action by commit SHA pins
# the binary too. A table without a version means the action's ref is not a
# release (`uses: ./`, a branch, a SHA of main): the binary is then built
# from the action's own source with `cargo install --locked --path`.
#
# Environment (all set by the runner or by action.yml):
#   RUNNER_OS, RUNNER_ARCH      the platform to install for
#   RUNNER_TOOL_CACHE           where verified binaries are kept between runs
#   RUNNER_TEMP                 scratch space for the download
#   GITHUB_SERVER_URL           https://github.com unless GitHub Enterprise
#   GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
#   PAYDOWN_CHECKSUMS           the table (default: next to this script)
#   PAYDOWN_SOURCE_DIR          the action's checkout, for the source fallback
#   PAYDOWN_DOWNLOAD_URL        overrides <server>/<repository>/releases/download/v<version>
#   PAYDOWN_VERIFY_ATTESTATION  "true": also `gh attestation verify` the archive
#
# Exit status: 0 installed (or found in the cache), 1 refused or failed;
# every failure is a `::error` line naming the file and the sums involved.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
table="${PAYDOWN_CHECKSUMS:-$here/release-checksums.txt}"
source_dir="${PAYDOWN_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"

fail() {
  # Workflow command data: % and newlines escaped so the message cannot end
  # the command early.
  local message="$1"
  message="${message//'%'/'%25'}"
  message="${message//$'\n'/'%0A'}"
  echo "::error title=paydown install::$message"
  exit 1
}

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '%s\n' "$1" >>"$GITHUB_STEP_SUMMARY"
  fi
}

output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fail "neither sha256sum nor shasum is installed: cannot verify the paydown archive"
  fi
}

# Windows runners hand out C:\ paths; Git Bash works in /c/ ones and the
# runner reads GITHUB_PATH back as Windows paths.
unix_path() { if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s' "$1"; fi; }
native_path() { if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s' "$1"; fi; }

# Hands the installed binary's directory to the action and later steps.
publish() {
  local dir how="$2"
  dir="$(native_path "$1")"
  output bin-dir "$dir"
  output source "$how"
  if [ -n "${GITHUB_PATH:-}" ]; then
    printf '%s\n' "$dir" >>"$GITHUB_PATH"
  fi
}

scratch="$(unix_path "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")"

# ---- which release ----------------------------------------------------------

[ -f "$table" ] || fail "the checksum table $table is missing from the action's checkout"
version="$(sed -n 's/^version=//p' "$table" | head -n1 | tr -d '\r[:space:]')"
repository="$(sed -n 's/^repository=//p' "$table" | head -n1 | tr -d '\r[:space:]')"

if [ -z "$version" ]; then
  # Not a release: build the action's own source. Slow (minutes), so say so
  # where the user looks.
  note="paydown: this action ref has no release (its checksum table names no version), so paydown is built from source with cargo install --locked --path. Pin a release tag (or its commit SHA) to start in seconds."
  echo "::notice title=paydown built from source::$note"
  summary "> **Note:** $note"
  command -v cargo >/dev/null 2>&1 ||
    fail "this action ref has no release and cargo is not installed to build paydown from $source_dir; use a release tag such as paydown/paydown@v1"
  root="$scratch/paydown-from-source"
  cargo install --locked --path "$source_dir" --root "$root" --bin paydown
  publish "$root/bin" source
  exit 0
fi
[ -n "$repository" ] || fail "the checksum table $table names version $version but no repository="

# ---- which platform ---------------------------------------------------------

os="${RUNNER_OS:-}"
arch="${RUNNER_ARCH:-}"
exe=paydown
ext=tar.gz
case "$os/$arch" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=paydown.exe ext=zip ;;
  *)
    fail "paydown $version has no binary for RUNNER_OS=${os:-unset} RUNNER_ARCH=${arch:-unset}; releases cover Linux X64/ARM64, macOS X64/ARM64 and Windows X64"
    ;;
esac
asset="paydown-v$version-$target.$ext"
expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$table" | tr -d '\r')"
[ -n "$expected" ] || fail "the checksum table $table has no entry for $asset (paydown $version, $os $arch)"

# ---- the tool cache ---------------------------------------------------------

# The layout of @actions/tool-cache: <cache>/<tool>/<version>/<arch>, and a
# <arch>.complete marker written only once the directory is whole.
cache_root="$(unix_path "${RUNNER_TOOL_CACHE:-$scratch/toolcache}")"
arch_dir="$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')"
cache_dir="$cache_root/paydown/$version/$arch_dir"
marker="$cache_dir.complete"
if [ -f "$marker" ] && [ -x "$cache_dir/$exe" ] && [ "$(cat "$marker")" = "$expected" ]; then
  echo "paydown $version ($target): found in the tool cache at $cache_dir"
  publish "$cache_dir" cache
  exit 0
fi

# ---- download, verify, unpack -----------------------------------------------

url="${PAYDOWN_DOWNLOAD_URL:-${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download/v$version}/$asset"
work="$(mktemp -d "$scratch/paydown-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
archive="$work/$asset"
started=$(date +%s)
status="$(curl --silent --show-error --location --retry 3 --retry-delay 1 \
  --connect-timeout 20 --max-time 300 --output "$archive" --write-out '%{http_code}' "$url" || true)"
if [ "$status" != 200 ]; then
  fail "cannot download $asset from $url (HTTP ${status:-no answer}): expected SHA-256 $expected, actual: nothing downloaded. Is paydown v$version released with this asset?"
fi
actual="$(sha256_of "$archive")"
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $asset downloaded from $url: expected SHA-256 $expected (from $table), actual $actual. The archive was not installed."
fi
if [ "${PAYDOWN_VERIFY_ATTESTATION:-false}" = true ]; then
  command -v gh >/dev/null 2>&1 || fail "verify-attestation is true but the gh CLI is not installed"
  gh attestation verify "$archive" --repo "$repository" ||
    fail "gh attestation verify refused $asset (SHA-256 $actual): it has no valid build provenance from $repository"
fi

unpacked="$work/unpacked"
mkdir -p "$unpacked"
case "$ext" in
  tar.gz) tar -xzf "$archive" -C "$unpacked" ;;
  zip)
    if command -v unzip >/dev/null 2>&1; then
      unzip -q "$archive" -d "$unpacked"
    else
      # Windows runners without unzip: PowerShell's own extractor.
      pwsh -NoProfile -Command "Expand-Archive -LiteralPath '$archive' -DestinationPath '$unpacked'"
    fi
    ;;
esac
[ -f "$unpacked/$exe" ] || fail "$asset (SHA-256 $actual) does not contain $exe at its top level"
chmod +x "$unpacked/$exe"

# Into the cache through a rename, so a concurrent job on the same runner
# never sees half a directory.
mkdir -p "$(dirname "$cache_dir")"
staging="$(mktemp -d "$(dirname "$cache_dir")/.$arch_dir.XXXXXX")"
mv "$unpacked/$exe" "$staging/$exe"
rm -rf "$cache_dir" "$marker"
mv "$staging" "$cache_dir"
printf '%s' "$expected" >"$marker"
echo "paydown $version ($target): downloaded $asset, SHA-256 $actual verified, installed in $cache_dir in $(($(date +%s) - started))s"
publish "$cache_dir" release

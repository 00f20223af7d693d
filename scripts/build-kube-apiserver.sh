#!/usr/bin/env bash
# Builds a genuine kube-apiserver v1.20.2 for the Kubernetes-mode tests, from Debian's own `kubernetes` source package
# (which carries its vendor/ tree) with Debian's Go, offline once the sources are downloaded. Used when no prebuilt
# binary is beside the clone (../shared/k8s or $TRELLIS_SHARED/k8s). Needs root on Debian bookworm (apt-get).
#
#   scripts/build-kube-apiserver.sh OUTPUT [WORKDIR]
#
# OUTPUT is where the binary goes (the tests pass ${XDG_CACHE_HOME:-~/.cache}/trellis-k8s/...); WORKDIR (default: a
# temporary directory, removed afterwards) holds ~1.9 GB while building. About 8-13 minutes on 2 cores, 1.3 GB RAM.
set -euo pipefail

out=${1:?usage: build-kube-apiserver.sh OUTPUT [WORKDIR]}
work=${2:-}
say() { printf 'build-kube-apiserver: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs golang-go and downloads source packages with apt-get)"
command -v apt-get >/dev/null || fail "apt-get not found: this recipe needs Debian"

if [[ -z $work ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/trellis-kube-build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)

need=()
for pkg in golang-go make rsync; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# Source packages come through the machine's own mirrors, with deb-src turned on in a private apt state directory so
# that the system's apt configuration stays as it is.
apt_dir=$work/apt
mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial"
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  awk '/^Types:/ { print "Types: deb deb-src"; next } { print }' /etc/apt/sources.list.d/debian.sources >"$apt_dir/sources/debian.sources"
elif [[ -f /etc/apt/sources.list ]]; then
  awk '/^deb / { print; sub(/^deb /, "deb-src "); print }' /etc/apt/sources.list >"$apt_dir/sources/debian.list"
fi
[[ -s $(ls "$apt_dir"/sources/* 2>/dev/null | head -n1) ]] || fail "no apt sources found to derive deb-src entries from"
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources" -o "Dir::State::Lists=$apt_dir/lists")
say "downloading the kubernetes and golang-github-modern-go-reflect2 source packages"
apt-get "${apt_opts[@]}" update -qq >&2
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only kubernetes golang-github-modern-go-reflect2 >&2)

shopt -s nullglob
k8s_tars=("$work"/kubernetes_*.orig.tar.*)
r2_tars=("$work"/golang-github-modern-go-reflect2_*.orig.tar.*)
((${#k8s_tars[@]})) || fail "the kubernetes source package did not download"
((${#r2_tars[@]})) || fail "the reflect2 source package did not download"
src=$work/src
rm -rf "$src" && mkdir -p "$src/reflect2"
tar -xf "${k8s_tars[-1]}" -C "$src"
tar -xf "${r2_tars[-1]}" -C "$src/reflect2" --strip-components=1
tree=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes*' | head -n1)
[[ -n $tree && -f $tree/Makefile ]] || fail "no kubernetes source tree after unpacking"

# The vendored modern-go/reflect2 v1.0.1 faults under Go 1.18 and later (in runtime.mapiterinit, the first time the
# server JSON-encodes a map, e.g. creating a custom resource); 1.0.2, Debian's package, is the fix upstream took too.
vendored=$tree/vendor/github.com/modern-go/reflect2
[[ -d $vendored ]] || fail "vendored reflect2 not found at $vendored"
find "$vendored" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) -delete
find "$src/reflect2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' -exec cp {} "$vendored"/ \;

# The Makefile runs Kubernetes' code generators before compiling (a bare `go build` misses generated files). No module
# downloads (GOPROXY=off), no cgo, the source tree's date as build date; no network at all where unshare allows it.
offline=()
unshare -n true 2>/dev/null && offline=(unshare -n --)
say "compiling cmd/kube-apiserver in $tree (this is the long part)"
(cd "$tree" && "${offline[@]}" env GOPROXY=off CGO_ENABLED=0 KUBE_BUILD_PLATFORMS=linux/amd64 \
  SOURCE_DATE_EPOCH="$(stat -c %Y "$tree/go.mod")" make WHAT=cmd/kube-apiserver >&2)

built=$tree/_output/bin/kube-apiserver
[[ -x $built ]] || fail "the build ended without $built"
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
cp "$built" "$tmp" && chmod 755 "$tmp" && mv -f "$tmp" "$out"
say "built $("$out" --version) into $out"
echo "$out"

#!/usr/bin/env bash
# Prepares, on this (Debian 12, networked) machine, what a bare GPU machine needs to build and run perfex's
# core for CUDA with scripts/gpu-run.sh: a GPU machine may offer only nvcc, a C++ compiler and CMake (no
# package manager, no network, no CFITSIO/HDF5/MPI/Catch2/Google Benchmark), and a few tens of MB carried in.
#
# Writes into .gpu-carry/ (git-ignored; PERFEX_GPU_CARRY overrides), each a .tar.gz:
#   kokkos-3.4.1-patched   packages/kokkos and packages/kokkos-kernels from Debian's trilinos 13.2.0 source,
#                          patched with scripts/patches/kokkos-3.4.1-*.patch (CUDA 13, Hopper), tests,
#                          benchmarks and docs left out
#   catch2-3.7.1           Debian's catch2 3.7.1-0.4~bpo12+1 source (bookworm-backports)
#   benchmark-1.7.1        Debian's benchmark 1.7.1-1 source (bookworm), for perf/bench_extract
# plus MANIFEST (versions, sizes, sha256). The perfex sources themselves travel as the checkout.
# Sources come through a private apt configuration in the dependency cache (the system's apt sources are
# not changed), like scripts/setup-deps.sh; downloads are cached there.
#
# Usage: scripts/gpu-prepare.sh        then carry .gpu-carry/ with the checkout and run scripts/gpu-run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
carry=${PERFEX_GPU_CARRY:-"$root/.gpu-carry"}
deps_dir=${PERFEX_DEPS_DIR:-"$HOME/.cache/perfex-deps"}
catch2_version=3.7.1-0.4~bpo12+1
benchmark_version=1.7.1-1
log() { printf '[gpu-prepare] %s\n' "$*" >&2; }

# deb-src for bookworm and bookworm-backports, lists and downloads kept in the cache (scripts/private-apt.sh).
source "$root/scripts/private-apt.sh"
private_apt_src() {
  private_apt_in "$deps_dir/apt-src" "deb-src http://deb.debian.org/debian bookworm main" \
    "deb-src http://deb.debian.org/debian bookworm-backports main" -- "$@"
}

# Downloads a Debian source package once into the cache; prints the path of its upstream tarball.
debian_source() {
  local pkg=$1 version=$2
  local dir="$deps_dir/src-packages/$pkg-${version//[~+]/_}"
  if [ ! -f "$dir/.perfex-stamp" ]; then
    log "$pkg $version: downloading Debian's source package"
    rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp"
    (cd "$dir.tmp" && private_apt_src source --download-only -qq "$pkg=$version" >&2)
    mv "$dir.tmp" "$dir"
    touch "$dir/.perfex-stamp"
  fi
  local orig=("$dir"/"${pkg}"_*.orig.tar.*)
  [ -f "${orig[0]}" ] || { log "$pkg: no upstream tarball in $dir"; exit 1; }
  echo "${orig[0]}"
}

# Repacks an upstream tarball as <name>.tar.gz with a single top directory <name>.
repack() {
  local tarball=$1 name=$2
  local tmp; tmp=$(mktemp -d)
  tar -xf "$tarball" -C "$tmp"
  local top=("$tmp"/*)
  [ ${#top[@]} -eq 1 ] && [ -d "${top[0]}" ] || { log "$tarball: expected one top directory"; exit 1; }
  [ "${top[0]}" = "$tmp/$name" ] || mv "${top[0]}" "$tmp/$name"
  tar -czf "$carry/$name.tar.gz" -C "$tmp" "$name"
  rm -rf "$tmp"
}

mkdir -p "$carry"
rm -f "$carry"/*.tar.gz "$carry/MANIFEST"

log "Kokkos 3.4.1: patched sources (scripts/setup-deps.sh --print-patched-kokkos-src)"
kokkos_src=$(PERFEX_DEPS_DIR="$deps_dir" "$root/scripts/setup-deps.sh" --print-patched-kokkos-src)
tar -czf "$carry/kokkos-3.4.1-patched.tar.gz" -C "$kokkos_src" --transform 's,^,kokkos-3.4.1-patched/,' \
  --exclude='packages/kokkos/*/unit_test*' --exclude='packages/kokkos/*/perf_test' \
  --exclude='packages/kokkos/*/performance_tests' --exclude='packages/kokkos/benchmarks' \
  --exclude='packages/kokkos/doc' \
  --exclude='packages/kokkos-kernels/unit_test' --exclude='packages/kokkos-kernels/perf_test' \
  --exclude='packages/kokkos-kernels/example' --exclude='packages/kokkos-kernels/doc' \
  packages/kokkos packages/kokkos-kernels

repack "$(debian_source catch2 "$catch2_version")" catch2-3.7.1
repack "$(debian_source benchmark "$benchmark_version")" benchmark-1.7.1

{
  echo "perfex GPU carry, prepared $(date -u +%Y-%m-%dT%H:%MZ) from $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "kokkos-3.4.1-patched: trilinos 13.2.0-4 packages/kokkos + packages/kokkos-kernels, patches:"
  (cd "$root/scripts/patches" && sha256sum kokkos-3.4.1-*.patch | sed 's/^/  /')
  echo "catch2-3.7.1: Debian catch2 $catch2_version"
  echo "benchmark-1.7.1: Debian benchmark $benchmark_version"
  (cd "$carry" && sha256sum ./*.tar.gz && du -ch ./*.tar.gz | tail -1)
} > "$carry/MANIFEST"
cat "$carry/MANIFEST"
log "ready: carry $carry with the checkout; on the GPU machine run scripts/gpu-run.sh"

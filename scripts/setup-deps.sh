#!/usr/bin/env bash
# Installs everything perfex needs on Debian 12 (bookworm), idempotently:
#   1. Debian packages (toolchain, MPI, HDF5 serial and parallel, CFITSIO, BLAS/LAPACK, CLI11, fmt, Google Benchmark, ERFA,
#      pybind11 and Debian's python3 with numpy, pytest and matplotlib);
#   2. Catch2 v3 (bookworm-backports binary, unpacked into the cache, never installed system-wide);
#   3. Kokkos and Kokkos-Kernels 3.4.1 built from Debian's trilinos 13.2.0 source package.
# Built dependencies live outside the checkout in $PERFEX_DEPS_DIR (default ~/.cache/perfex-deps), in a
# prefix keyed by version and flags; a stamp file is written only after a successful install, so a
# half-built prefix is never used. The system's apt sources are not changed: a private apt configuration
# downloads the source/backports files.
#
# Usage: scripts/setup-deps.sh [--print-prefix]
#   --print-prefix   print the CMAKE_PREFIX_PATH for the built dependencies and exit (after setup)
# Environment: PERFEX_DEPS_DIR, PERFEX_SKIP_APT=1 (skip step 1), PERFEX_KOKKOS_BACKEND=openmp (default)
#   PERFEX_KOKKOS_BACKEND=cuda: Kokkos for NVIDIA GPUs (Cuda + Serial host), built with nvcc (found on PATH
#   or in /usr/local/cuda) through Kokkos' nvcc_wrapper from a copy of the source patched with
#   scripts/patches/kokkos-3.4.1-*.patch; PERFEX_CUDA_ARCH=HOPPER90 (default, sm_90) or AMPERE80 (sm_80).
#   Its prefix is keyed by the CUDA version, the architecture and the patches; perfex is then configured
#   with -DCMAKE_CXX_COMPILER=<kokkos prefix>/bin/nvcc_wrapper (see scripts/lanes/cuda.sh).
set -euo pipefail

deps_dir=${PERFEX_DEPS_DIR:-"$HOME/.cache/perfex-deps"}
backend=${PERFEX_KOKKOS_BACKEND:-openmp}
cuda_arch=${PERFEX_CUDA_ARCH:-HOPPER90}
trilinos_version=13.2.0-4
catch2_version=3.7.1-0.4~bpo12+1
jobs=$(nproc 2>/dev/null || echo 2)
log() { printf '[setup-deps] %s\n' "$*" >&2; }

apt_packages=(
  build-essential cmake ninja-build pkg-config ca-certificates xz-utils dpkg-dev
  ccache  # scripts/common.sh: the lanes' compiler cache, beside the built dependencies
  libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools python3-h5py libcfitsio-dev zlib1g-dev libopenblas-dev liblapack-dev liblapacke-dev
  libhdf5-openmpi-dev  # parallel HDF5 beside the serial one: the hdf5-parallel lane (PERFEX_HDF5_PARALLEL)
  libcli11-dev libfmt-dev libbenchmark-dev liberfa-dev
  clang libclang-rt-14-dev  # the fuzz lane: clang 14 with libFuzzer and the sanitizer runtimes
  clang-format-14  # scripts/check-format.sh (.clang-format is written for version 14)
  # the Python module (PERFEX_ENABLE_PYTHON, built against /usr/bin/python3), its tests and example
  pybind11-dev python3-dev python3-numpy python3-pytest python3-matplotlib
)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

install_apt_packages() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "Debian packages: all present"; return; fi
  log "Debian packages: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A private apt configuration (scripts/private-apt.sh): deb-src for bookworm and binaries from
# bookworm-backports, lists kept in the cache.
source "$(dirname "${BASH_SOURCE[0]}")/private-apt.sh"
private_apt() {
  private_apt_in "$deps_dir/apt" "deb-src http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-backports main" -- "$@"
}

install_catch2() {
  local prefix="$deps_dir/catch2-${catch2_version//[~+]/_}"
  if [ -f "$prefix/.perfex-stamp" ]; then log "Catch2: cached in $prefix"; echo "$prefix/usr" > "$deps_dir/.catch2-prefix"; return; fi
  log "Catch2 $catch2_version: downloading the bookworm-backports binary"
  rm -rf "$prefix" "$prefix.tmp"; mkdir -p "$prefix.tmp/dl"
  (cd "$prefix.tmp/dl" && private_apt download -qq "libcatch2-dev=$catch2_version")
  dpkg-deb -x "$prefix.tmp"/dl/libcatch2-dev_*.deb "$prefix.tmp"
  rm -rf "$prefix.tmp/dl"
  test -f "$prefix.tmp/usr/lib/cmake/Catch2/Catch2Config.cmake" \
    || { log "Catch2: package layout unexpected"; exit 1; }
  mv "$prefix.tmp" "$prefix"
  touch "$prefix/.perfex-stamp"
  echo "$prefix/usr" > "$deps_dir/.catch2-prefix"
}

trilinos_sources() {
  local src="$deps_dir/src/trilinos-$trilinos_version"
  if [ -f "$src/.perfex-stamp" ]; then echo "$src"; return; fi
  log "trilinos $trilinos_version: downloading Debian's source package (~166 MB)"
  rm -rf "$src" "$src.tmp"; mkdir -p "$src.tmp/dl"
  (cd "$src.tmp/dl" && private_apt source --download-only -qq "trilinos=$trilinos_version" >&2)
  log "trilinos: extracting packages/kokkos and packages/kokkos-kernels"
  tar -xzf "$src.tmp"/dl/trilinos_*.orig.tar.gz -C "$src.tmp" --strip-components=1 \
    --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
  rm -rf "$src.tmp/dl"
  mv "$src.tmp" "$src"
  touch "$src/.perfex-stamp"
  echo "$src"
}

# Builds packages/kokkos of SRC (release, C++17, PIC) with the options in the array kokkos_options and installs
# it into PREFIX, then installs Kokkos-Kernels on top (headers, no ETI) with the options in kk_options; stamps
# and records the prefix. Usage: install_kokkos SRC PREFIX BUILD LABEL.
install_kokkos() {
  local src=$1 prefix=$2 build=$3 label=$4
  log "Kokkos 3.4.1 ($label): configuring and building into $prefix"
  cmake -S "$src/packages/kokkos" -B "$build/kokkos" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_CXX_STANDARD=17 -DKokkos_CXX_STANDARD=17 \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON "${kokkos_options[@]}" >"$build/kokkos.log" 2>&1 \
    || { tail -30 "$build/kokkos.log"; exit 1; }
  cmake --build "$build/kokkos" -j "$jobs" >>"$build/kokkos.log" 2>&1 || { tail -30 "$build/kokkos.log"; exit 1; }
  cmake --install "$build/kokkos" >>"$build/kokkos.log" 2>&1
  log "Kokkos-Kernels 3.4.1 ($label): configuring (no ETI) and installing"
  cmake -S "$src/packages/kokkos-kernels" -B "$build/kk" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix" -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DKokkosKernels_INST_DOUBLE=OFF -DKokkosKernels_INST_FLOAT=OFF \
    -DKokkosKernels_INST_COMPLEX_DOUBLE=OFF -DKokkosKernels_INST_COMPLEX_FLOAT=OFF \
    -DKokkosKernels_INST_OFFSET_INT=OFF -DKokkosKernels_INST_OFFSET_SIZE_T=OFF \
    -DKokkosKernels_INST_ORDINAL_INT=OFF -DKokkosKernels_INST_ORDINAL_INT64_T=OFF \
    -DKokkosKernels_INST_LAYOUTLEFT=OFF -DKokkosKernels_INST_LAYOUTRIGHT=OFF \
    -DKokkosKernels_ENABLE_TESTS=OFF -DKokkosKernels_ENABLE_EXAMPLES=OFF "${kk_options[@]}" \
    >"$build/kk.log" 2>&1 || { tail -30 "$build/kk.log"; exit 1; }
  cmake --build "$build/kk" -j "$jobs" >>"$build/kk.log" 2>&1 || { tail -30 "$build/kk.log"; exit 1; }
  cmake --install "$build/kk" >>"$build/kk.log" 2>&1
  rm -rf "$build/kokkos" "$build/kk"
  touch "$prefix/.perfex-stamp"
  echo "$prefix" > "$deps_dir/.kokkos-prefix"
}

build_kokkos() {
  local src; src=$(trilinos_sources)
  local key="kokkos-3.4.1-$backend-release"
  local prefix="$deps_dir/$key"
  if [ -f "$prefix/.perfex-stamp" ]; then log "Kokkos: cached in $prefix"; echo "$prefix" > "$deps_dir/.kokkos-prefix"; return; fi
  local build="$deps_dir/build/$key"
  rm -rf "$prefix" "$build"; mkdir -p "$build"
  case "$backend" in
    openmp) kokkos_options=(-DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_OPENMP=ON) ;;
    *) log "unknown PERFEX_KOKKOS_BACKEND '$backend' (expected: openmp)"; exit 2 ;;
  esac
  kk_options=()
  install_kokkos "$src" "$prefix" "$build" "$backend"
}

# The CUDA variant: packages/kokkos and packages/kokkos-kernels copied from the trilinos source and
# patched (CUDA 13 and Hopper support), Kokkos built with Cuda + Serial for one architecture through its
# nvcc_wrapper, Kokkos-Kernels headers (no ETI, no cuBLAS/cuSPARSE) on top.
patched_kokkos_sources() {
  local src; src=$(trilinos_sources)
  local patches=("$(dirname "$0")"/patches/kokkos-3.4.1-*.patch)
  local hash; hash=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
  local dst="$deps_dir/src/kokkos-3.4.1-patched-$hash"
  if [ -f "$dst/.perfex-stamp" ]; then echo "$dst"; return; fi
  log "Kokkos 3.4.1: copying the sources and applying ${#patches[@]} patches into $dst"
  rm -rf "$dst" "$dst.tmp"; mkdir -p "$dst.tmp/packages"
  cp -a "$src/packages/kokkos" "$src/packages/kokkos-kernels" "$dst.tmp/packages/"
  for p in "${patches[@]}"; do
    patch -d "$dst.tmp" -p1 --forward --no-backup-if-mismatch -s < "$p" >&2 || { log "patch $p failed"; exit 1; }
  done
  chmod +x "$dst.tmp/packages/kokkos/bin/nvcc_wrapper"
  mv "$dst.tmp" "$dst"
  touch "$dst/.perfex-stamp"
  echo "$dst"
}

# nvcc on PATH (nvcc_wrapper runs `nvcc`), else /usr/local/cuda/bin's.
find_nvcc() {
  if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
  command -v nvcc >/dev/null 2>&1 || { log "PERFEX_KOKKOS_BACKEND=cuda: nvcc not found (PATH, /usr/local/cuda/bin)"; exit 1; }
}

build_kokkos_cuda() {
  case "$cuda_arch" in
    HOPPER90|AMPERE80) ;;
    *) log "unknown PERFEX_CUDA_ARCH '$cuda_arch' (expected: HOPPER90 or AMPERE80)"; exit 2 ;;
  esac
  find_nvcc
  local cuda_version; cuda_version=$(nvcc --version | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
  local src; src=$(patched_kokkos_sources)
  local key="kokkos-3.4.1-cuda$cuda_version-$cuda_arch-${src##*-}-release"
  local prefix="$deps_dir/$key"
  if [ -f "$prefix/.perfex-stamp" ]; then log "Kokkos (cuda): cached in $prefix"; echo "$prefix" > "$deps_dir/.kokkos-prefix"; return; fi
  local build="$deps_dir/build/$key"
  rm -rf "$prefix" "$build"; mkdir -p "$build"
  kokkos_options=(-DCMAKE_CXX_COMPILER="$src/packages/kokkos/bin/nvcc_wrapper" -DKokkos_ENABLE_SERIAL=ON
    -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON "-DKokkos_ARCH_$cuda_arch=ON")
  kk_options=(-DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper" -DKokkosKernels_ENABLE_TPL_CUBLAS=OFF
    -DKokkosKernels_ENABLE_TPL_CUSPARSE=OFF)
  install_kokkos "$src" "$prefix" "$build" "Cuda $cuda_version, $cuda_arch, Serial host"
}

print_prefix=0
for a in "$@"; do
  case "$a" in
    --print-prefix) print_prefix=1 ;;
    -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) log "unknown option '$a' (see --help)"; exit 2 ;;
  esac
done

mkdir -p "$deps_dir"
[ "${PERFEX_SKIP_APT:-0}" = 1 ] || install_apt_packages
install_catch2
if [ "$backend" = cuda ]; then build_kokkos_cuda; else build_kokkos; fi
prefix_path="$(cat "$deps_dir/.kokkos-prefix");$(cat "$deps_dir/.catch2-prefix")"
if [ $print_prefix = 1 ]; then echo "$prefix_path"; else log "dependencies ready: CMAKE_PREFIX_PATH=$prefix_path"; fi

# Shared by the top-level scripts: sets up the dependencies and configures + builds one build tree.
# Usage (sourced): perfex_build <build-dir> [extra cmake args...]; PERFEX_BUILD_TARGET="a b" builds only those
# targets.
set -euo pipefail
perfex_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

perfex_build() {
  local build_dir=$1
  shift
  local prefix
  prefix=$("$perfex_root/scripts/setup-deps.sh" --print-prefix)
  # A compiler cache beside the dependencies (ccache, from setup-deps.sh): a source compiled with the same
  # flags by another lane, or by an earlier run of any checkout, is not compiled again. Not for nvcc_wrapper
  # (a script ccache cannot classify); PERFEX_CCACHE=0 or a CMAKE_CXX_COMPILER_LAUNCHER of the caller's wins.
  local launcher=()
  if [ "${PERFEX_CCACHE:-1}" = 1 ] && [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null &&
    [[ " $* " != *nvcc_wrapper* ]]; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    export CCACHE_DIR=${CCACHE_DIR:-${PERFEX_DEPS_DIR:-"$HOME/.cache/perfex-deps"}/ccache}
    export CCACHE_BASEDIR=$perfex_root CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-3G}
  fi
  cmake -S "$perfex_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${PERFEX_BUILD_TYPE:-Release}" \
    -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" "$@" >"$build_dir.configure.log" 2>&1 \
    || { cat "$build_dir.configure.log"; return 1; }
  # shellcheck disable=SC2086  # PERFEX_BUILD_TARGET: blank-separated target names
  cmake --build "$build_dir" -j "$(nproc)" ${PERFEX_BUILD_TARGET:+--target $PERFEX_BUILD_TARGET}
}

# Pinned OpenMP threads so Kokkos does not warn; the user's settings win.
export OMP_PROC_BIND=${OMP_PROC_BIND:-spread} OMP_PLACES=${OMP_PLACES:-threads}

#!/usr/bin/env bash
# Forward-compatibility check: builds perfex against a current Kokkos, Debian sid's libkokkos-dev (5.x,
# OpenMP backend), and runs its tests. That package only installs on sid, so the build happens inside a sid
# chroot made with debootstrap (root, or sudo, and the Debian mirror are needed). The chroot, with its
# packages installed, is cached outside the checkout in $PERFEX_DEPS_DIR/sid-chroot (as scripts/setup-deps.sh
# caches its builds) and remade when it is older than PERFEX_SID_MAX_AGE_DAYS days (sid moves) or was made
# for another package set; a stamp is written only once it is complete. The checkout is bind-mounted
# read-only into the chroot and built there in /var/tmp/perfex-build. The CI lane scripts/lanes/kokkos5.sh
# runs it.
#
# Kokkos-Kernels: Debian's libkokkoskernels-dev when sid has it, else a stub CMake package providing an
# empty Kokkos::kokkoskernels target (perfex links it but calls none of its routines).
# sid's Kokkos CMake configuration names static libraries the package does not ship: every missing
# library file it names is created as an empty archive (and listed) so that find_package(Kokkos) works.
#
# Usage: scripts/check-kokkos-sid.sh          (as root; otherwise it runs itself through sudo)
# Environment: PERFEX_DEPS_DIR (~/.cache/perfex-deps), PERFEX_SID_CHROOT (default $PERFEX_DEPS_DIR/sid-chroot),
#   PERFEX_SID_MIRROR (http://deb.debian.org/debian), PERFEX_SID_MAX_AGE_DAYS (7),
#   PERFEX_SID_FULL=0 (core only: no FITS I/O, CLI, benchmarks), PERFEX_SID_CLEAN=0 (reuse the chroot's
#   previous build tree).
# Output: the logs in build-sid/ of the checkout (configure.log, build.log, ctest.log, summary.txt with the
# time of every step).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "check-kokkos-sid: needs root or sudo (debootstrap, mount, chroot)" >&2; exit 2; }
  exec sudo --preserve-env=PERFEX_DEPS_DIR,PERFEX_SID_CHROOT,PERFEX_SID_MIRROR,PERFEX_SID_MAX_AGE_DAYS,PERFEX_SID_FULL,PERFEX_SID_CLEAN \
    env PERFEX_DEPS_DIR="${PERFEX_DEPS_DIR:-$HOME/.cache/perfex-deps}" "$0" "$@"
fi
deps_dir=${PERFEX_DEPS_DIR:-"$HOME/.cache/perfex-deps"}
chroot_dir=${PERFEX_SID_CHROOT:-"$deps_dir/sid-chroot"}
mirror=${PERFEX_SID_MIRROR:-http://deb.debian.org/debian}
max_age_days=${PERFEX_SID_MAX_AGE_DAYS:-7}
full=${PERFEX_SID_FULL:-1}
out="$root/build-sid"
mkdir -p "$out"
: > "$out/summary.txt"
log() { printf '[check-kokkos-sid] %s\n' "$*" | tee -a "$out/summary.txt" >&2; }
step_start=$(date +%s)
step_done() { log "$1: $(( $(date +%s) - step_start )) s"; step_start=$(date +%s); }

packages="g++ cmake ninja-build pkg-config libkokkos-dev catch2"
[ "$full" = 1 ] && packages="$packages libcfitsio-dev zlib1g-dev libcli11-dev libfmt-dev liberfa-dev libbenchmark-dev"
stamp_content="packages: $packages"

# The cached chroot is used when its stamp names the same packages and is younger than max_age_days.
fresh=0
if [ -f "$chroot_dir/.perfex-stamp" ] && [ "$(sed -n 's/^packages: //p' "$chroot_dir/.perfex-stamp")" = "${packages}" ] &&
   [ -n "$(find "$chroot_dir/.perfex-stamp" -mtime -"$max_age_days" 2>/dev/null)" ]; then
  fresh=1
fi
if [ $fresh = 0 ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 || {
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  fi
  log "debootstrap sid into $chroot_dir (minbase, from $mirror)"
  rm -rf "$chroot_dir"
  mkdir -p "$(dirname "$chroot_dir")"
  debootstrap --variant=minbase sid "$chroot_dir" "$mirror" >"$out/debootstrap.log" 2>&1 \
    || { tail -20 "$out/debootstrap.log" >&2; log "debootstrap failed (build-sid/debootstrap.log)"; exit 1; }
  step_done debootstrap
fi

# Mounts for the chroot, undone on exit (only what this script mounted).
mounted=()
cleanup() {
  local i
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" || true; done
}
trap cleanup EXIT
mount -t proc proc "$chroot_dir/proc" && mounted+=("$chroot_dir/proc")
# sysfs: libgomp reads the CPU topology for OMP_PLACES=threads (else it prints an error on every run).
mount -t sysfs sysfs "$chroot_dir/sys" && mounted+=("$chroot_dir/sys")
mkdir -p "$chroot_dir/perfex-src"
mount --bind "$root" "$chroot_dir/perfex-src" && mounted+=("$chroot_dir/perfex-src")
mount -o remount,bind,ro "$chroot_dir/perfex-src"
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null || true

in_chroot() {
  chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    PACKAGES="$packages" FULL="$full" CLEAN="${PERFEX_SID_CLEAN:-1}" /bin/bash -s
}

if [ $fresh = 0 ]; then
  log "installing the packages in the chroot: $packages"
  set +e
  in_chroot >"$out/packages.log" 2>&1 <<'IN_CHROOT'
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# A mirror or cache serving sid slightly behind (or a machine clock ahead) makes apt refuse the Release
# file as expired; the packages themselves are still verified against it.
echo 'Acquire::Check-Valid-Until "false";' > /etc/apt/apt.conf.d/99perfex-check-valid-until
apt-get update -qq
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
if apt-get install -y -qq --no-install-recommends libkokkoskernels-dev >/dev/null 2>&1; then
  echo "Kokkos-Kernels: Debian's libkokkoskernels-dev $(dpkg-query -W -f='${Version}' libkokkoskernels-dev)"
else
  echo "Kokkos-Kernels: not packaged in sid; using a stub package (empty Kokkos::kokkoskernels)"
  # Where find_package searches by default, so the install-consumer test's project finds it too.
  mkdir -p /usr/local/lib/cmake/KokkosKernels
  cat > /usr/local/lib/cmake/KokkosKernels/KokkosKernelsConfig.cmake <<'EOF'
# Stub: perfex links Kokkos::kokkoskernels but calls none of its routines.
if(NOT TARGET Kokkos::kokkoskernels)
  add_library(Kokkos::kokkoskernels INTERFACE IMPORTED)
  target_link_libraries(Kokkos::kokkoskernels INTERFACE Kokkos::kokkos)
endif()
set(KokkosKernels_FOUND TRUE)
EOF
fi
# Library files the installed Kokkos CMake configuration names but the package does not ship.
kokkos_cmake=$(dirname "$(find /usr/lib /usr/share -name KokkosConfig.cmake | head -1)")
for f in $( { grep -rhoE '"\$\{_IMPORT_PREFIX\}/[^"]*\.a"' "$kokkos_cmake" | sed -E 's,"\$\{_IMPORT_PREFIX\}/(.*)",/usr/\1,';
              grep -rhoE '"/usr/[^"]*\.a"' "$kokkos_cmake" | tr -d '"'; } | sort -u); do
  if [ ! -e "$f" ]; then
    echo "Kokkos CMake configuration names $f, which is not installed: creating it as an empty archive"
    mkdir -p "$(dirname "$f")"
    ar rc "$f"
  fi
done
apt-get clean
IN_CHROOT
  rc=$?
  set -e
  cat "$out/packages.log" >&2
  [ $rc -eq 0 ] || { log "installing the packages in the chroot failed (build-sid/packages.log)"; exit 1; }
  printf '%s\nmade: %s\n' "$stamp_content" "$(date -u +%Y-%m-%dT%H:%MZ)" >"$chroot_dir/.perfex-stamp"
  step_done packages
else
  log "using the cached chroot $chroot_dir ($(sed -n 's/^made: //p' "$chroot_dir/.perfex-stamp"))"
fi

log "building perfex in the chroot ($( chroot "$chroot_dir" dpkg-query -W -f='libkokkos-dev ${Version}, ' libkokkos-dev 2>/dev/null)$( chroot "$chroot_dir" g++ --version | head -1), $( chroot "$chroot_dir" cmake --version | head -1))"
set +e
in_chroot >"$out/chroot.log" 2>&1 <<'IN_CHROOT'
set -euo pipefail
io=OFF; bench=OFF
if [ "$FULL" = 1 ]; then io=ON; bench=ON; fi
[ "$CLEAN" = 1 ] && rm -rf /var/tmp/perfex-build
t0=$(date +%s)
# HDF5 and MPI are not installed in the chroot: their options stay off (HDF5 is ON by default).
cmake -S /perfex-src -B /var/tmp/perfex-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPERFEX_ENABLE_IO=$io -DPERFEX_ENABLE_HDF5=OFF -DPERFEX_ENABLE_BENCHMARKS=$bench -DPERFEX_TEST_SPACES=default \
  > /var/tmp/configure.log 2>&1 || { cat /var/tmp/configure.log; exit 10; }
grep -iE "kokkos|warning" /var/tmp/configure.log | head -20 || true
cmake --build /var/tmp/perfex-build -j "$(nproc)" > /var/tmp/build.log 2>&1 \
  || { grep -E "error|Error" /var/tmp/build.log | head -60; exit 11; }
echo "build: $(( $(date +%s) - t0 )) s, $(grep -c 'warning' /var/tmp/build.log || true) warning lines"
t0=$(date +%s)
cd /var/tmp/perfex-build
OMP_PROC_BIND=spread OMP_PLACES=threads ctest --output-on-failure -j "$(nproc)" > /var/tmp/ctest.log 2>&1 || exit 12
echo "ctest: $(( $(date +%s) - t0 )) s"
tail -3 /var/tmp/ctest.log
IN_CHROOT
rc=$?
set -e
for f in configure.log build.log ctest.log; do
  [ -f "$chroot_dir/var/tmp/$f" ] && cp "$chroot_dir/var/tmp/$f" "$out/$f"
done
cat "$out/chroot.log" >&2
grep -E '^(build|ctest): ' "$out/chroot.log" | sed 's/^/  /' >>"$out/summary.txt" || true
case $rc in
  0) log "perfex builds and passes its tests against sid's Kokkos" ;;
  10) log "configure failed against sid's Kokkos (build-sid/configure.log)" ;;
  11) log "build failed against sid's Kokkos (build-sid/build.log)" ;;
  12) log "tests failed against sid's Kokkos (build-sid/ctest.log)" ;;
  *) log "the chroot step failed (exit $rc; build-sid/chroot.log)" ;;
esac
step_done "build and tests"
exit $rc

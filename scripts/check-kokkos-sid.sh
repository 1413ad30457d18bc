#!/usr/bin/env bash
# Forward-compatibility check, run by hand (not in CI): builds perfex against a current Kokkos, Debian
# sid's libkokkos-dev (5.x, OpenMP backend), and runs its tests. That package only installs on sid, so
# the build happens inside a sid chroot made with debootstrap (needs root and network access to the
# Debian mirror; the chroot is kept and reused). The checkout is bind-mounted read-only into the chroot
# and built there in /var/tmp/perfex-build.
#
# Kokkos-Kernels: Debian's libkokkoskernels-dev when sid has it, else a stub CMake package providing an
# empty Kokkos::kokkoskernels target (perfex links it but calls none of its routines).
# sid's Kokkos CMake configuration names static libraries the package does not ship: every missing
# library file it names is created as an empty archive (and listed) so that find_package(Kokkos) works.
#
# Usage: sudo scripts/check-kokkos-sid.sh
# Environment: PERFEX_SID_CHROOT (default /var/tmp/perfex-sid-chroot), PERFEX_SID_MIRROR
#   (default http://deb.debian.org/debian), PERFEX_SID_FULL=0 (core only: no FITS I/O, CLI, benchmarks),
#   PERFEX_SID_CLEAN=0 (reuse the chroot's previous build tree).
# Output: the logs in build-sid/ of the checkout (configure.log, build.log, ctest.log, summary.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chroot_dir=${PERFEX_SID_CHROOT:-/var/tmp/perfex-sid-chroot}
mirror=${PERFEX_SID_MIRROR:-http://deb.debian.org/debian}
full=${PERFEX_SID_FULL:-1}
out="$root/build-sid"
log() { printf '[check-kokkos-sid] %s\n' "$*" | tee -a "$out/summary.txt" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "check-kokkos-sid: needs root (debootstrap, mount, chroot)" >&2; exit 2; }
mkdir -p "$out"
: > "$out/summary.txt"

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
if [ ! -f "$chroot_dir/.perfex-stamp" ]; then
  log "debootstrap sid into $chroot_dir (minbase, from $mirror)"
  rm -rf "$chroot_dir"
  debootstrap --variant=minbase sid "$chroot_dir" "$mirror" >"$out/debootstrap.log" 2>&1 \
    || { tail -20 "$out/debootstrap.log" >&2; exit 1; }
  touch "$chroot_dir/.perfex-stamp"
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
[ -f "$chroot_dir/etc/resolv.conf" ] || cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"

packages="g++ cmake ninja-build pkg-config libkokkos-dev catch2"
[ "$full" = 1 ] && packages="$packages libcfitsio-dev zlib1g-dev libcli11-dev libfmt-dev liberfa-dev libbenchmark-dev"
log "building perfex in the chroot (packages: $packages)"
set +e
chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  PACKAGES="$packages" FULL="$full" CLEAN="${PERFEX_SID_CLEAN:-1}" /bin/bash -s >"$out/chroot.log" 2>&1 <<'IN_CHROOT'
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
echo "Kokkos: libkokkos-dev $(dpkg-query -W -f='${Version}' libkokkos-dev)"
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
io=OFF; bench=OFF
if [ "$FULL" = 1 ]; then io=ON; bench=ON; fi
[ "$CLEAN" = 1 ] && rm -rf /var/tmp/perfex-build
cmake -S /perfex-src -B /var/tmp/perfex-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPERFEX_ENABLE_IO=$io -DPERFEX_ENABLE_BENCHMARKS=$bench > /var/tmp/configure.log 2>&1 \
  || { cat /var/tmp/configure.log; exit 10; }
grep -iE "kokkos|warning" /var/tmp/configure.log | head -20 || true
cmake --build /var/tmp/perfex-build -j "$(nproc)" > /var/tmp/build.log 2>&1 \
  || { grep -E "error|Error" /var/tmp/build.log | head -60; exit 11; }
echo "build: $(grep -c 'warning' /var/tmp/build.log || true) warning lines"
cd /var/tmp/perfex-build
OMP_PROC_BIND=spread OMP_PLACES=threads ctest --output-on-failure -j "$(nproc)" > /var/tmp/ctest.log 2>&1 || exit 12
tail -3 /var/tmp/ctest.log
IN_CHROOT
rc=$?
set -e
for f in configure.log build.log ctest.log; do
  [ -f "$chroot_dir/var/tmp/$f" ] && cp "$chroot_dir/var/tmp/$f" "$out/$f"
done
cat "$out/chroot.log" >&2
case $rc in
  0) log "perfex builds and passes its tests against sid's Kokkos" ;;
  10) log "configure failed against sid's Kokkos (build-sid/configure.log)" ;;
  11) log "build failed against sid's Kokkos (build-sid/build.log)" ;;
  12) log "tests failed against sid's Kokkos (build-sid/ctest.log)" ;;
  *) log "the chroot step failed (exit $rc; build-sid/chroot.log)" ;;
esac
exit $rc

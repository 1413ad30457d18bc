# Lane: forward compatibility with Kokkos 5. scripts/check-kokkos-sid.sh builds perfex (FITS I/O, the CLI,
# benchmarks; HDF5 and MPI off) against Debian sid's libkokkos-dev (5.x, OpenMP) in a sid chroot and runs its
# tests; the chroot, with its packages, is cached in the dependency cache ($PERFEX_DEPS_DIR/sid-chroot) and
# remade weekly. Needs root or sudo (debootstrap, mount, chroot) and the Debian mirror.
scripts/check-kokkos-sid.sh

#include "copy_count.hpp"

#include <cstring>

namespace perfex::bench {

namespace {

Copies g_copies;

// Memory spaces the host reads directly: HostSpace, and the pinned or host-USM spaces of device backends.
bool host_side(const char* space) {
  return std::strcmp(space, "Host") == 0 || std::strstr(space, "HostPinned") != nullptr ||
         std::strstr(space, "HostUSM") != nullptr;
}

void on_deep_copy(Kokkos_Profiling_SpaceHandle dst, const char*, const void*, Kokkos_Profiling_SpaceHandle src,
                  const char*, const void*, std::uint64_t bytes) {
  const bool dst_host = host_side(dst.name), src_host = host_side(src.name);
  if (dst_host && !src_host) {
    ++g_copies.to_host;
    g_copies.bytes_to_host += static_cast<std::int64_t>(bytes);
  } else if (!dst_host && src_host) {
    ++g_copies.to_device;
    g_copies.bytes_to_device += static_cast<std::int64_t>(bytes);
  } else {
    ++g_copies.within;
  }
}

}  // namespace

CopyCount::CopyCount() : m_previous(Kokkos::Tools::Experimental::get_callbacks()) {
  Kokkos::fence();
  g_copies = Copies();
  Kokkos::Tools::Experimental::set_begin_deep_copy_callback(on_deep_copy);
}

CopyCount::~CopyCount() {
  Kokkos::fence();
  Kokkos::Tools::Experimental::set_callbacks(m_previous);
}

const Copies& CopyCount::copies() const { return g_copies; }

}  // namespace perfex::bench

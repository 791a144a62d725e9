#include "engine/store/slab_classes.h"

#include <vector>

namespace mcha {
namespace {

constexpr unsigned kItemHeader = 48;       // sizeof(item) without the CAS
constexpr unsigned kChunkSize = 48;        // -n
constexpr double kFactor = 1.25;           // -f
constexpr unsigned kChunkAlign = 8;        // CHUNK_ALIGN_BYTES
constexpr unsigned kChunkMax = 512 * 1024; // slab_chunk_size_max: half of a 1 MB page

// Chunk sizes of classes 1.. as slabs_init() computes them (the float product truncated to an
// unsigned, then aligned), the last class being the largest chunk.
std::vector<unsigned> build() {
  std::vector<unsigned> sizes;
  unsigned size = kItemHeader + kChunkSize;
  while (size < kChunkMax / kFactor) {
    if (size % kChunkAlign) size += kChunkAlign - size % kChunkAlign;
    sizes.push_back(size);
    size = static_cast<unsigned>(size * kFactor);
  }
  sizes.push_back(kChunkMax);
  return sizes;
}

}  // namespace

unsigned slab_class(size_t size) {
  static const std::vector<unsigned> sizes = build();
  for (size_t i = 0; i < sizes.size(); i++) {
    if (size <= sizes[i]) return static_cast<unsigned>(i + 1);
  }
  return static_cast<unsigned>(sizes.size());
}

}  // namespace mcha

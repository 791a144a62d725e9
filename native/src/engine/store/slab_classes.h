// memcached's slab classes, for the cls= that `me` shows: this node allocates with malloc, but a
// client comparing `me` answers sees the class memcached 1.6.18 would give the item with its
// defaults (-n 48, -f 1.25, 1 MB pages: chunks up to 512 KB, larger items chained from the last
// class). Twin of src/engine/ts/store/slab-classes.ts.
#pragma once
#include <cstddef>

namespace mcha {

// The class memcached stores an item of `size` bytes (memcached_item_size()) in; items larger
// than the biggest chunk are chunked and counted in the last class, as slabs_clsid() does.
unsigned slab_class(size_t size);

}  // namespace mcha

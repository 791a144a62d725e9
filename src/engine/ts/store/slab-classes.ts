/**
 * memcached's slab classes with its defaults (-n 48, -f 1.25, 1 MB pages), for the `cls=`
 * that `me` reports: this engine has no slabs, but clients compare the number.
 */
const ITEM_HEADER = 48;
const CHUNK_SIZE = 48;
const FACTOR = 1.25;
const SLAB_PAGE_SIZE = 1024 * 1024;
/** The largest class: items above it are chunked. */
const SLAB_CHUNK_SIZE_MAX = SLAB_PAGE_SIZE / 2;
const MAX_CLASSES = 64;

/** The chunk size of each class, index = class id (class 0 is unused), as slabs_init builds them. */
const CLASS_SIZES: number[] = [0];
for (let size = ITEM_HEADER + CHUNK_SIZE; CLASS_SIZES.length < MAX_CLASSES - 1; ) {
  if (size >= SLAB_CHUNK_SIZE_MAX / FACTOR) break;
  if (size % 8 !== 0) size += 8 - (size % 8);
  CLASS_SIZES.push(size);
  // memcached keeps the size in an unsigned int: the product is truncated.
  size = Math.floor(size * FACTOR);
}
CLASS_SIZES.push(SLAB_CHUNK_SIZE_MAX);

/** slabs_clsid: the smallest class that holds `size` bytes (0 when over the item size limit). */
function classFor(size: number, itemSizeMax: number): number {
  if (size === 0 || size > itemSizeMax) return 0;
  for (let id = 1; id < CLASS_SIZES.length; id++) if (size <= CLASS_SIZES[id]!) return id;
  return CLASS_SIZES.length - 1;
}

/**
 * The class `me` reports for an item of `total` bytes (memcachedItemSize). A chunked item (over
 * half a page) takes its header from a small class but is counted in the largest one, whose LRU
 * it is linked into.
 */
export function slabClassOf(total: number, itemSizeMax: number): number {
  return classFor(total, itemSizeMax);
}

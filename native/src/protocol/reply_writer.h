// Accumulates the replies of one pipelined batch as iovecs: protocol text in owned blocks,
// values as pointers into item memory (each holding a reference). A batch leaves in one
// uv_write (writev). mark()/discard() mirror where memcached has already transmitted.
#pragma once
#include <uv.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "engine/store/item.h"

namespace mcha {

class Store;

struct WriteBatch {
  uv_write_t req;
  std::vector<uv_buf_t> bufs;
  std::vector<Item*> refs;
  std::vector<char*> blocks;
  size_t bytes = 0;
};

class Writer {
 public:
  explicit Writer(Store& store) : store_(store) {}
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void text(const char* p, size_t n);
  void text(std::string_view s) { text(s.data(), s.size()); }
  void line(std::string_view s);
  void number(uint64_t v);
  // An item's value and its "\r\n": copied when small, otherwise referenced.
  void value(Item* it);
  // The value alone, as the binary protocol sends it.
  void value_bytes(Item* it);
  // A transmit point: what was composed since the last one has left, as far as memcached's
  // item references go (the held items below are released).
  void mark();
  void discard();
  // memcached's mg reply holds a reference to its item until the connection next transmits,
  // and incr/decr rewrite a number in place only when nobody but the table holds the item:
  // hold() keeps `it` until the next transmit point (mark(), discard()); holds() tells.
  void hold(Item* it);
  bool holds(const Item* it) const;
  size_t pending() const { return pending_; }
  // Writes what is composed straight to the socket, as far as the kernel takes it now, without
  // a write request: returns the bytes written. When all went, the refs are released and the
  // first text block is kept for the next replies; otherwise take() the rest.
  size_t try_write(uv_stream_t* s);
  // Hands everything composed to a batch the caller writes and later frees with finish().
  WriteBatch* take();
  // The same for what precedes the last mark (nullptr if nothing does); what follows it stays,
  // copied (a rare path: a binary connection left waiting for a value).
  WriteBatch* take_marked();
  void finish(WriteBatch* b);

 private:
  void close_run();
  // After everything composed was written: empty again, keeping one block and the vectors' room.
  void recycle();
  void release_refs_from(size_t i);
  void free_blocks_from(size_t i);
  void release_held();

  Store& store_;
  std::vector<uv_buf_t> bufs_;
  std::vector<Item*> refs_;
  std::vector<char*> blocks_;
  std::vector<Item*> held_;
  char* cur_ = nullptr;
  size_t cur_len_ = 0, cur_cap_ = 0, run_start_ = 0;
  size_t pending_ = 0;
  struct Mark {
    size_t bufs = 0, refs = 0, blocks = 0, cur_len = 0, cur_cap = 0, pending = 0;
    char* cur = nullptr;
  } mark_;
};

}  // namespace mcha

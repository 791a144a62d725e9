// Request framing for the proxy's C++ data path (client.cc): splits a client's input into whole
// requests and hashes their keys.
#pragma once
#include <cstddef>
#include <cstdint>

#include "protocol/line_limits.h"
#include "protocol/request.h"

namespace mcha {

// What a plain request is, for routing, retries and the counters.
// kFrameMeta: a meta command a retry may repeat (see meta_retryable), kFrameMetaOnce: one it
// may not; kFrameMn: answered by the proxy, in its place in the client's order.
enum FrameKind : int32_t {
  kFrameGet = 1,
  kFrameSet = 2,
  kFrameStoreOther = 3,
  kFrameDelete = 4,
  kFrameTouch = 5,
  kFrameArith = 6,
  kFrameMeta = 7,
  kFrameMetaOnce = 8,
  kFrameMn = 9,
  // A binary request (binary_framer.h): one a retry may repeat, and one it may not.
  kFrameBinary = 10,
  kFrameBinaryOnce = 11,
};

// A plain request: one the proxy forwards byte for byte to the node its key routes to.
struct PlainRequest {
  int32_t kind = 0;
  size_t start = 0;
  size_t end = 0;     // past the data block of a storage command
  uint32_t hash = 0;  // ketama's hash (first MD5 word) of the (first) key
  // noreply (only when asked for) and a meta command's q flag: the request goes out as
  // [start, cut) + [rest, end), without that token, so the node answers and the proxy keeps in
  // step; it drops the reply (noreply: `silent`), or the replies quiet mode would not have sent
  // (`quiet`: the meta command's letter, see quiet_drops). cut == 0: it goes out as it came.
  size_t cut = 0;
  size_t rest = 0;
  bool silent = false;
  char quiet = 0;
  // A meta line that keeps its q (MetaLine::fence): it goes out with "mn\r\n" after it.
  bool fence = false;
  // A meta command's letter (0: not one) and whether it has a T flag: the cmd_ counters count
  // as memcached does (mg a get, or a touch with T; ms a set).
  char meta = 0;
  bool meta_ttl = false;
};

enum class Framed { Plain, NeedMore, Other };

// Frames the request at p[off, n): Plain (filled in `out`, `req` holds the parsed line; its
// views point into p); NeedMore while it may still become a plain request (its line, or a data
// block of at most max_value bytes, is incomplete); Other for everything else (not one key,
// noreply, an error, a line past `lines`' bounds...): the TypeScript path handles those, with memcached's
// exact replies. `multi_get`: a get or gets of several keys is Plain too (hash: the first key's);
// `noreply`: a request with noreply is Plain too (see PlainRequest::cut); `gat`: gat and gats
// are Plain too (kind kFrameGet; req.touch tells them apart). Meta commands (meta_framer.h) are
// Plain whatever their flags: the node answers a malformed one, except an ms whose data
// block is over max_value, or a line past `lines`' bounds.
// Every length is checked against the buffer before it is used.
Framed frame_plain(const char* p, size_t n, size_t off, const LineLimits& lines, int64_t max_value, bool multi_get, bool noreply, bool gat, Request& req, PlainRequest& out);

// The ketama hash of a key.
uint32_t key_hash(const char* p, size_t n);

}  // namespace mcha

#include "proxy/request_framer.h"

#include <cstring>

#include "common/md5.h"
#include "proxy/meta_framer.h"

namespace mcha {

uint32_t key_hash(const char* p, size_t n) {
  uint32_t words[4];
  md5_words(p, n, words);
  return words[0];
}

namespace {

// A meta command at p[off, n), its line ending at the newline at off + len.
Framed frame_meta(const char* p, size_t n, size_t off, size_t len, int64_t max_value, const MetaLine& m, PlainRequest& out) {
  size_t end = off + len + 1;
  if (m.datalen >= 0) {
    if (m.datalen > max_value) return Framed::Other;
    // The node reads (or swallows) the block whatever it holds; a bad chunk is its to answer.
    size_t data = static_cast<size_t>(m.datalen) + 2;
    if (n - end < data) return Framed::NeedMore;
    end += data;
  }
  out.kind = m.cmd == 'n' ? kFrameMn : meta_retryable(m) ? kFrameMeta : kFrameMetaOnce;
  out.start = off;
  out.end = end;
  out.silent = false;
  out.fence = m.fence;
  out.meta = m.cmd;
  out.meta_ttl = m.ttl;
  out.quiet = m.q_end != 0 ? m.cmd : 0;
  out.cut = m.q_end != 0 ? off + m.q_start : 0;
  out.rest = off + m.q_end;
  if (m.key_len == 0) {
    out.hash = 0;  // the ring's first point
  } else {
    std::string key;
    meta_route_key(p + off, m, key);
    out.hash = key_hash(key.data(), key.size());
  }
  return Framed::Plain;
}

}  // namespace

Framed frame_plain(const char* p, size_t n, size_t off, const LineLimits& lines, int64_t max_value, bool multi_get, bool noreply, bool gat, Request& req, PlainRequest& out) {
  const char* nl = static_cast<const char*>(memchr(p + off, '\n', n - off));
  // An unterminated line past memcached's command limit goes to the TypeScript path, which
  // closes the connection unless it is a get line, as memcached does; so does a line longer
  // than memcached's read buffer.
  if (!nl) return n - off > lines.max_command_line ? Framed::Other : Framed::NeedMore;
  size_t len = static_cast<size_t>(nl - (p + off));
  if (len > lines.max_complete_line) return Framed::Other;
  size_t line = len > 1 && p[off + len - 1] == '\r' ? len - 1 : len;
  // Meta commands first: the shared parser's view of them is the node's business.
  MetaLine meta;
  if ((p[off] == 'm' || p[off] == ' ') && parse_meta_line(p + off, line, meta)) return frame_meta(p, n, off, len, max_value, meta, out);
  parse_request(p + off, line, req);
  out.cut = 0;
  out.silent = false;
  out.quiet = 0;
  out.fence = false;
  out.meta = 0;
  if (req.noreply) {
    if (!noreply) return Framed::Other;
    // memcached's noreply is the line's last token: cut it and the spaces before it.
    size_t e = line;
    while (e > 0 && p[off + e - 1] == ' ') e--;
    if (e < 7 || memcmp(p + off + e - 7, "noreply", 7) != 0) return Framed::Other;
    out.rest = off + e;  // the line's end stays: what follows the token, and its newline
    e -= 7;
    while (e > 0 && p[off + e - 1] == ' ') e--;
    out.cut = off + e;
    out.silent = true;
  }
  size_t end = off + len + 1;
  std::string_view key = req.key;
  int32_t kind;
  switch (req.kind) {
    case Kind::Get:
      if ((req.touch && !gat) || req.bad_key || req.keys.empty() || (req.keys.size() != 1 && !multi_get)) return Framed::Other;
      kind = kFrameGet;
      key = req.keys[0];
      break;
    case Kind::Store: {
      if (req.bytes < 0 || req.bytes > max_value) return Framed::Other;
      size_t data = static_cast<size_t>(req.bytes) + 2;
      if (n - end < data) return Framed::NeedMore;
      if (p[end + data - 2] != '\r' || p[end + data - 1] != '\n') return Framed::Other;
      end += data;
      kind = req.op == StoreOp::Set ? kFrameSet : kFrameStoreOther;
      break;
    }
    case Kind::Delete: kind = kFrameDelete; break;
    case Kind::Touch: kind = kFrameTouch; break;
    case Kind::Arith: kind = kFrameArith; break;
    default: return Framed::Other;
  }
  out.kind = kind;
  out.start = off;
  out.end = end;
  out.hash = key_hash(key.data(), key.size());
  return Framed::Plain;
}

}  // namespace mcha

#include "proxy_frame.h"

#include <cstring>

#include "md5.h"

namespace mcha {
namespace {

constexpr size_t kInts = 4;                 // kind, start, end, key hash
constexpr size_t kMaxCompleteLine = 16384;  // longer lines go to the TypeScript path (it may close)
// An unterminated line longer than memcached's 2048 goes to the TypeScript path too: memcached
// closes the connection unless it is a get line, which may grow (line-limits.ts has the rule).
constexpr size_t kMaxUnterminated = 2048;

}  // namespace

uint32_t key_hash(const char* p, size_t n) {
  uint32_t words[4];
  md5_words(p, n, words);
  return words[0];
}

Framed frame_plain(const char* p, size_t n, size_t off, int64_t max_value, bool multi_get, bool noreply, bool gat, Request& req, PlainRequest& out) {
  const char* nl = static_cast<const char*>(memchr(p + off, '\n', n - off));
  if (!nl) return n - off > kMaxUnterminated ? Framed::Other : Framed::NeedMore;
  size_t len = static_cast<size_t>(nl - (p + off));
  if (len > kMaxCompleteLine) return Framed::Other;
  size_t line = len > 1 && p[off + len - 1] == '\r' ? len - 1 : len;
  parse_request(p + off, line, req);
  out.cut = 0;
  if (req.noreply) {
    if (!noreply) return Framed::Other;
    // memcached's noreply is the line's last token: cut it and the spaces before it.
    size_t e = line;
    while (e > 0 && p[off + e - 1] == ' ') e--;
    if (e < 7 || memcmp(p + off + e - 7, "noreply", 7) != 0) return Framed::Other;
    e -= 7;
    while (e > 0 && p[off + e - 1] == ' ') e--;
    out.cut = off + e;
    out.rest = off + len + 1;
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

// Frames the whole requests at the start of buf[start, length) that the proxy forwards as they
// are: a get or gets of one key; set, add, replace, append, prepend, cas with their complete,
// well-terminated data block of at most maxValue bytes; delete, incr, decr, touch. None with
// noreply (the proxy rewrites those). Each gives four ints in `out`: kind, start, end (past the
// data block) and the MD5 hash of the key. Framing stops at the first request that is
// incomplete or anything else (errors included): the TypeScript path takes it from there.
Napi::Value FrameRequests(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsTypedArray()) {
    Napi::TypeError::New(env, "frameRequests(buf, start, maxValue, out)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> buf = info[0].As<Napi::Buffer<char>>();
  Napi::Int32Array out = info[3].As<Napi::Int32Array>();
  const char* p = buf.Data();
  const size_t n = buf.Length();
  size_t off = info[1].As<Napi::Number>().Uint32Value();
  const int64_t max_value = info[2].As<Napi::Number>().Int64Value();
  const size_t capacity = out.ElementLength() / kInts;
  int32_t* o = out.Data();
  static Request req;
  PlainRequest r;
  size_t count = 0;
  while (off < n && count < capacity) {
    if (frame_plain(p, n, off, max_value, false, false, false, req, r) != Framed::Plain) break;
    int32_t* d = o + count * kInts;
    d[0] = r.kind;
    d[1] = static_cast<int32_t>(r.start);
    d[2] = static_cast<int32_t>(r.end);
    d[3] = static_cast<int32_t>(r.hash);
    count++;
    off = r.end;
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace mcha

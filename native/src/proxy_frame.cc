#include "proxy_frame.h"

#include <cstring>

#include "md5.h"
#include "request.h"

namespace mcha {
namespace {

// Descriptor kinds (src/proxy/native-framer.ts mirrors them).
enum FrameKind : int32_t { kGet = 1, kSet = 2, kStoreOther = 3, kDelete = 4, kTouch = 5, kArith = 6 };
constexpr size_t kInts = 4;             // kind, start, end, key hash
constexpr size_t kMaxCompleteLine = 16384;  // longer lines go to the TypeScript path (it may close)

uint32_t key_hash(std::string_view key) {
  uint32_t words[4];
  md5_words(key.data(), key.size(), words);
  return words[0];
}

// Frames the request at p[off, n) into d[0, kInts) and returns where it ends, or 0 when framing
// stops there (incomplete, not a plain one-key request, or an error for the TypeScript path).
size_t frame_one(const char* p, size_t n, size_t off, int64_t max_value, Request& req, int32_t* d) {
  const char* nl = static_cast<const char*>(memchr(p + off, '\n', n - off));
  if (!nl) return 0;
  size_t len = static_cast<size_t>(nl - (p + off));
  if (len > kMaxCompleteLine) return 0;
  size_t line = len > 1 && p[off + len - 1] == '\r' ? len - 1 : len;
  parse_request(p + off, line, req);
  if (req.noreply) return 0;
  size_t end = off + len + 1;
  std::string_view key = req.key;
  int32_t kind;
  switch (req.kind) {
    case Kind::Get:
      if (req.touch || req.bad_key || req.keys.size() != 1) return 0;
      kind = kGet;
      key = req.keys[0];
      break;
    case Kind::Store: {
      if (req.bytes < 0 || req.bytes > max_value) return 0;
      size_t data = static_cast<size_t>(req.bytes) + 2;
      if (n - end < data || p[end + data - 2] != '\r' || p[end + data - 1] != '\n') return 0;
      end += data;
      kind = req.op == StoreOp::Set ? kSet : kStoreOther;
      break;
    }
    case Kind::Delete: kind = kDelete; break;
    case Kind::Touch: kind = kTouch; break;
    case Kind::Arith: kind = kArith; break;
    default: return 0;
  }
  d[0] = kind;
  d[1] = static_cast<int32_t>(off);
  d[2] = static_cast<int32_t>(end);
  d[3] = static_cast<int32_t>(key_hash(key));
  return end;
}

}  // namespace

// Frames the whole requests at the start of buf[start, length) that the proxy forwards as they
// are: a get or gets of one key; set, add, replace, append, prepend, cas with their complete,
// well-terminated data block of at most maxValue bytes; delete, incr, decr, touch. None with
// noreply (the proxy rewrites those). Each gives four ints in `out`: kind, start, end (past the
// data block) and the MD5 hash of the key. Framing stops at the first request that is
// incomplete or anything else (errors included): the TypeScript path takes it from there, with
// memcached's exact replies. Every length is checked against the buffer before it is used.
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
  size_t count = 0;
  while (off < n && count < capacity) {
    size_t end = frame_one(p, n, off, max_value, req, o + count * kInts);
    if (end == 0) break;
    count++;
    off = end;
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

}  // namespace mcha

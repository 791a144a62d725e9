// frameRequests(): the proxy's request framer for its TypeScript path (src/proxy/native-framer.ts),
// and the frame kinds it reports.
#include "bindings/bindings.h"
#include "proxy/request_framer.h"

namespace mcha {
namespace {

constexpr size_t kInts = 4;  // kind, start, end, key hash

// Frames the whole requests at the start of buf[start, length) that the proxy forwards as they
// are: a get or gets of one key; set, add, replace, append, prepend, cas with their complete,
// well-terminated data block of at most maxValue bytes; delete, incr, decr, touch. None with
// noreply (the proxy rewrites those). Each gives four ints in `out`: kind, start, end (past the
// data block) and the MD5 hash of the key. Framing stops at the first request that is
// incomplete or anything else (errors included): the TypeScript path takes it from there.
Napi::Value frame_requests(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsTypedArray() || !info[4].IsObject()) {
    Napi::TypeError::New(env, "frameRequests(buf, start, maxValue, out, lineLimits)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> buf = info[0].As<Napi::Buffer<char>>();
  Napi::Int32Array out = info[3].As<Napi::Int32Array>();
  const char* p = buf.Data();
  const size_t n = buf.Length();
  size_t off = info[1].As<Napi::Number>().Uint32Value();
  const int64_t max_value = info[2].As<Napi::Number>().Int64Value();
  const LineLimits lines = line_limits(info[4].As<Napi::Object>());
  const size_t capacity = out.ElementLength() / kInts;
  int32_t* o = out.Data();
  static Request req;
  PlainRequest r;
  size_t count = 0;
  while (off < n && count < capacity) {
    if (frame_plain(p, n, off, lines, max_value, false, false, false, req, r) != Framed::Plain) break;
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

}  // namespace

void register_framer(Napi::Env env, Napi::Object exports) {
  exports.Set("frameRequests", Napi::Function::New(env, frame_requests, "frameRequests"));
  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("get", static_cast<int32_t>(kFrameGet));
  kinds.Set("set", static_cast<int32_t>(kFrameSet));
  kinds.Set("storeOther", static_cast<int32_t>(kFrameStoreOther));
  kinds.Set("delete", static_cast<int32_t>(kFrameDelete));
  kinds.Set("touch", static_cast<int32_t>(kFrameTouch));
  kinds.Set("arith", static_cast<int32_t>(kFrameArith));
  exports.Set("frameKinds", kinds);
}

}  // namespace mcha

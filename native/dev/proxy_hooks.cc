// Test entry points for the proxy's C++ data path (test/proxy/native-backend.test.ts): the
// reply framer on its own, and a backend connection driven against a real memcached.
#include "dev_hooks.h"

#include <uv.h>

#include <cstring>
#include <string>
#include <vector>

#include "proxy/backend_connection.h"
#include "proxy/reply_reader.h"

namespace mcha {
namespace {

// frameReply(buf, shape, maxValue): the reply's length, 0 (incomplete) or -1 (not that reply).
Napi::Value FrameReply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "frameReply(buf, shape, maxValue)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> b = info[0].As<Napi::Buffer<char>>();
  uint32_t shape = info[1].As<Napi::Number>().Uint32Value();
  if (shape > 2) {
    Napi::RangeError::New(env, "shape is 0, 1 or 2").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t scan = 0;
  long n = frame_reply(b.Data(), b.Length(), static_cast<ReplyShape>(shape), info[2].As<Napi::Number>().Uint32Value(), scan);
  return Napi::Number::New(env, static_cast<double>(n));
}

struct RoundTrip {
  napi_env env;
  napi_ref done = nullptr;
  napi_async_context context = nullptr;
  std::vector<std::string> replies;
  size_t expected = 0;
  BackendConnection* conn = nullptr;

  // done(replies: Buffer[], failure: string | null, waiting: number), then frees itself.
  void finish(const char* failure, size_t waiting) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value fn, recv, argv[3], result;
    napi_create_array_with_length(env, replies.size(), &argv[0]);
    for (size_t i = 0; i < replies.size(); i++) {
      napi_value b;
      void* copy = nullptr;
      napi_create_buffer_copy(env, replies[i].size(), replies[i].data(), &copy, &b);
      napi_set_element(env, argv[0], static_cast<uint32_t>(i), b);
    }
    if (failure) napi_create_string_utf8(env, failure, NAPI_AUTO_LENGTH, &argv[1]);
    else napi_get_null(env, &argv[1]);
    napi_create_uint32(env, static_cast<uint32_t>(waiting), &argv[2]);
    napi_get_reference_value(env, done, &fn);
    napi_get_global(env, &recv);
    napi_make_callback(env, context, recv, fn, 3, argv, &result);
    napi_close_handle_scope(env, scope);
    napi_delete_reference(env, done);
    napi_async_destroy(env, context);
    delete this;
  }
};

// roundTrip(port, requests: Buffer, lengths: Int32Array, shapes: Int32Array, maxValue, done):
// one connection to 127.0.0.1:port; the requests (concatenated, one length each) are sent in
// one loop turn; done(replies, failure, waiting) once every reply came or the connection ended.
Napi::Value RoundTripHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsTypedArray() || !info[3].IsTypedArray() ||
      !info[4].IsNumber() || !info[5].IsFunction()) {
    Napi::TypeError::New(env, "roundTrip(port, requests, lengths, shapes, maxValue, done)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  Napi::Int32Array lengths = info[2].As<Napi::Int32Array>();
  Napi::Int32Array shapes = info[3].As<Napi::Int32Array>();
  if (lengths.ElementLength() != shapes.ElementLength()) {
    Napi::RangeError::New(env, "one shape per request").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t total = 0;
  for (size_t i = 0; i < lengths.ElementLength(); i++) {
    if (lengths[i] < 0 || shapes[i] < 0 || shapes[i] > 2) {
      Napi::RangeError::New(env, "bad length or shape").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    total += static_cast<size_t>(lengths[i]);
  }
  if (total != data.Length()) {
    Napi::RangeError::New(env, "the lengths do not add up to the requests").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* rt = new RoundTrip();
  rt->env = env;
  napi_create_reference(env, info[5], 1, &rt->done);
  napi_value name;
  napi_create_string_utf8(env, "memcache-ha-native proxy backend test", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &rt->context);
  rt->expected = lengths.ElementLength();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", static_cast<int>(info[0].As<Napi::Number>().Uint32Value()), &addr);
  BackendConnection::Callbacks cb;
  cb.reply = [rt](BackendConnection*, const BackendRequest&, const char* p, size_t n) {
    rt->replies.emplace_back(p, n);
    if (rt->replies.size() == rt->expected) rt->conn->close("done");
  };
  cb.failed = [rt](BackendConnection*, std::vector<BackendRequest>&& waiting, const char* why, CloseReason) {
    bool complete = rt->replies.size() == rt->expected;
    rt->finish(complete ? nullptr : why, waiting.size());
  };
  rt->conn = BackendConnection::open(loop, reinterpret_cast<const sockaddr*>(&addr), info[4].As<Napi::Number>().Uint32Value(), 64 * 1024 * 1024, std::move(cb));
  size_t off = 0;
  uint64_t now = uv_hrtime();
  for (size_t i = 0; i < lengths.ElementLength(); i++) {
    BackendRequest r{i, static_cast<ReplyShape>(shapes[i]), now};
    if (!rt->conn->send(data.Data() + off, static_cast<size_t>(lengths[i]), r)) break;
    off += static_cast<size_t>(lengths[i]);
  }
  if (rt->expected == 0) rt->conn->close("done");
  return env.Undefined();
}

}  // namespace

void register_proxy_hooks(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("frameReply", Napi::Function::New(env, FrameReply));
  o.Set("roundTrip", Napi::Function::New(env, RoundTripHook));
  exports.Set("proxyTest", o);
}

}  // namespace mcha

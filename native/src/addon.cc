// The coarse boundary between TypeScript and C++: construct with Settings, start, stop.
// Requests never cross it; only rare events do (a `shutdown` command, stop completion), through
// one thread-safe function so they run in a proper JavaScript context.
#include <napi.h>
#include <uv.h>

#include <memory>

#include "bench_hooks.h"
#include "server.h"

namespace mcha {
namespace {

struct Event {
  enum Type { Shutdown, Stopped } type;
  bool graceful;
};

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "NativeEngine",
                                     {InstanceMethod("start", &NativeEngine::Start), InstanceMethod("stop", &NativeEngine::Stop)});
    exports.Set("NativeEngine", cls);
    return exports;
  }

  // new NativeEngine(settings, onEvent(type: 'shutdown' | 'stopped', graceful: boolean))
  explicit NativeEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngine>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "NativeEngine(settings, onEvent)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    settings_.listen = o.Get("listen").ToString().Utf8Value();
    settings_.port = o.Get("port").ToNumber().Uint32Value();
    settings_.max_bytes = static_cast<uint64_t>(o.Get("maxBytes").ToNumber().DoubleValue());
    settings_.max_connections = o.Get("maxConnections").ToNumber().Uint32Value();
    settings_.threads = o.Get("threads").ToNumber().Uint32Value();
    settings_.item_size_max = o.Get("itemSizeMax").ToNumber().Uint32Value();
    settings_.verbosity = o.Get("verbosity").ToNumber().Int32Value();
    settings_.evictions = o.Get("evictions").ToBoolean().Value();
    settings_.cas_enabled = o.Get("casEnabled").ToBoolean().Value();
    settings_.shutdown_enabled = o.Get("shutdownEnabled").ToBoolean().Value();
    settings_.flush_enabled = o.Get("flushEnabled").ToBoolean().Value();
    settings_.version = o.Get("version").ToString().Utf8Value();
    events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "memcache-ha-native events", 0, 1);
    events_.Unref(env);
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (server_) {
      Napi::Error::New(env, "already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto events = events_;
    server_ = std::make_unique<Server>(loop, settings_, [events](bool graceful) mutable {
      events.NonBlockingCall(new Event{Event::Shutdown, graceful}, Deliver);
    });
    std::string host;
    uint32_t port = 0;
    int rc = server_->listen(host, port);
    if (rc != 0) {
      Napi::Error e = Napi::Error::New(env, uv_strerror(rc));
      e.Set("code", Napi::String::New(env, uv_err_name(rc)));
      server_.reset();
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("host", host);
    out.Set("port", port);
    return out;
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!server_ || stopping_) return env.Undefined();
    stopping_ = true;
    // Keeps the loop alive until 'stopped' is delivered, after the last handle closed.
    events_.Ref(env);
    auto events = events_;
    server_->stop([events]() mutable {
      events.NonBlockingCall(new Event{Event::Stopped, false}, Deliver);
      events.Release();
    });
    return env.Undefined();
  }

  static void Deliver(Napi::Env env, Napi::Function callback, Event* e) {
    bool graceful = e->graceful;
    const char* type = e->type == Event::Shutdown ? "shutdown" : "stopped";
    delete e;
    if (env == nullptr || callback == nullptr) return;  // the environment is being torn down
    napi_value argv[2] = {Napi::String::New(env, type), Napi::Boolean::New(env, graceful)};
    // Errors are values here: a failed call (e.g. during exit) must not abort the process.
    napi_call_function(env, env.Undefined(), callback, 2, argv, nullptr);
  }

  Settings settings_;
  std::unique_ptr<Server> server_;
  Napi::ThreadSafeFunction events_;
  bool stopping_ = false;
};

}  // namespace
}  // namespace mcha

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  mcha::register_bench_hooks(env, exports);
  return mcha::NativeEngine::Init(env, exports);
}

NODE_API_MODULE(memcache_ha_native, InitAddon)

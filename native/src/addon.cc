// The coarse boundary between TypeScript and C++: construct with Settings, start, stop, and for
// replication: drain the mutation log, apply a batch of records, read a snapshot chunk, set the
// replication state. Requests never cross it; events do (records waiting, at most once per
// loop turn; a `shutdown` command; stop completion), through one thread-safe function so they
// run in a proper JavaScript context.
#include <napi.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "bench_hooks.h"
#include "js_call.h"
#include "log.h"
#include "net_address.h"
#include "proxy_core.h"
#include "proxy_frame.h"
#include "proxy_hooks.h"
#include "server.h"

namespace mcha {
namespace {

struct Event {
  enum Type { Shutdown, Stopped } type;
  bool graceful;
};

// Tells JavaScript that the mutation log has records, from a uv_check handle: at most once per
// loop iteration, after that iteration's reads, and without a syscall (a thread-safe function
// costs an eventfd write and an extra loop iteration per notification, which at hundreds of
// thousands of writes per second halved the node's throughput).
class RecordsNotifier {
 public:
  RecordsNotifier(napi_env env, uv_loop_t* loop, napi_value callback) : env_(env) {
    napi_create_reference(env, callback, 1, &callback_);
    napi_value name;
    napi_create_string_utf8(env, "memcache-ha-native records", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, nullptr, name, &context_);
    uv_check_init(loop, &check_);
    check_.data = this;
    uv_check_start(&check_, on_check);
    uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  }

  // Called when the log gets its first record since the last drain.
  void arm() { armed_ = true; }

  // Frees itself once libuv has closed the handle.
  void destroy() {
    napi_delete_reference(env_, callback_);
    napi_async_destroy(env_, context_);
    uv_close(reinterpret_cast<uv_handle_t*>(&check_), [](uv_handle_t* h) { delete static_cast<RecordsNotifier*>(h->data); });
  }

 private:
  static void on_check(uv_check_t* h) {
    auto* n = static_cast<RecordsNotifier*>(h->data);
    if (!n->armed_) return;
    n->armed_ = false;
    napi_env env = n->env_;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value argv[2];
    napi_create_string_utf8(env, "records", NAPI_AUTO_LENGTH, &argv[0]);
    napi_get_boolean(env, false, &argv[1]);
    call_from_loop(env, n->context_, n->callback_, 2, argv);
    napi_close_handle_scope(env, scope);
  }

  napi_env env_;
  napi_ref callback_ = nullptr;
  napi_async_context context_ = nullptr;
  uv_check_t check_;
  bool armed_ = false;
};

void free_records(Napi::Env, char* data) { free(data); }

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "NativeEngine",
                                     {InstanceMethod("start", &NativeEngine::Start), InstanceMethod("stop", &NativeEngine::Stop),
                                      InstanceMethod("pending", &NativeEngine::Pending),
                                      InstanceMethod("drainInto", &NativeEngine::DrainInto), InstanceMethod("apply", &NativeEngine::Apply),
                                      InstanceMethod("snapshotBegin", &NativeEngine::SnapshotBegin),
                                      InstanceMethod("snapshotNext", &NativeEngine::SnapshotNext),
                                      InstanceMethod("setStats", &NativeEngine::SetStats),
                                      InstanceMethod("setAcknowledged", &NativeEngine::SetAcknowledged)});
    exports.Set("NativeEngine", cls);
    return exports;
  }

  // new NativeEngine(settings, onEvent(type: 'shutdown' | 'stopped' | 'records', graceful: boolean))
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
    settings_.replicated = o.Get("replicated").ToBoolean().Value();
    settings_.sync_mode = o.Get("syncMode").ToBoolean().Value();
    settings_.node_id = o.Get("nodeId").ToNumber().Uint32Value();
    events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "memcache-ha-native events", 0, 1);
    events_.Unref(env);
    // The store exists before the client port opens: a replica takes records while it catches up.
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto events = events_;
    if (settings_.replicated) notifier_ = new RecordsNotifier(env, loop, info[1]);
    RecordsNotifier* notifier = notifier_;
    server_ = std::make_unique<Server>(
        loop, settings_,
        [events](bool graceful) mutable { events.NonBlockingCall(new Event{Event::Shutdown, graceful}, Deliver); },
        [notifier]() { notifier->arm(); });
  }

  ~NativeEngine() override {
    if (notifier_) notifier_->destroy();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (started_ || stopping_) {
      Napi::Error::New(env, "already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    started_ = true;
    // The address as resolved by the TypeScript side (libuv binds numeric addresses only).
    if (info.Length() > 0 && info[0].IsString()) server_->settings().listen = info[0].As<Napi::String>().Utf8Value();
    std::string host;
    uint32_t port = 0;
    int rc = server_->listen(host, port);
    return listen_result(env, rc, host, port);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (stopping_) return env.Undefined();
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

  // pending(): bytes of this node's records waiting to be drained.
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    MutationLog* log = server_->log();
    return Napi::Number::New(info.Env(), log ? static_cast<double>(log->pending()) : 0);
  }

  // drainInto(target: Buffer, at: number): number -- copies every waiting record into `target`
  // at `at` (memory the replication layer reuses: steady writing allocates nothing on either
  // side) and returns how many records they were.
  Napi::Value DrainInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    MutationLog* log = server_->log();
    if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsNumber() || !log) {
      Napi::TypeError::New(env, "drainInto(target: Buffer, at: number) on a replicated engine").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<char> target = info[0].As<Napi::Buffer<char>>();
    double at = info[1].As<Napi::Number>().DoubleValue();
    size_t n = log->pending();
    if (!(at >= 0) || at > static_cast<double>(target.Length()) || target.Length() - static_cast<size_t>(at) < n) {
      Napi::RangeError::New(env, "drainInto: the target has no room for the waiting records").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uint32_t records = log->pending_records();
    if (n) memcpy(target.Data() + static_cast<size_t>(at), log->data(), n);
    log->drained();
    return Napi::Number::New(env, records);
  }

  // apply(records: Buffer): throws an Error saying what was malformed (after applying what preceded it).
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer() || !server_->log()) {
      Napi::TypeError::New(env, "apply(records: Buffer) on a replicated engine").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto buf = info[0].As<Napi::Buffer<char>>();
    auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
    const char* err = apply_records(buf.Data(), buf.Length(), server_->store(), server_->clock(), server_->settings(), now_ms);
    if (err) Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value SnapshotBegin(const Napi::CallbackInfo& info) {
    Snapshot* snap = server_->snapshot();
    return Napi::Number::New(info.Env(), snap ? static_cast<double>(snap->begin()) : 0);
  }

  // snapshotNext(maxBytes): {bytes: Buffer, items: number} | null once complete.
  Napi::Value SnapshotNext(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Snapshot* snap = server_->snapshot();
    if (!snap) return env.Null();
    size_t max_bytes = info.Length() > 0 ? static_cast<size_t>(info[0].ToNumber().Int64Value()) : 256 * 1024;
    RecordBuffer out;
    bool done = false;
    uint32_t items = snap->next(out, max_bytes, done);
    if (done) return env.Null();
    size_t len = out.size();
    char* data = out.release();
    Napi::Object chunk = Napi::Object::New(env);
    chunk.Set("bytes", data ? Napi::Buffer<char>::New(env, data, len, free_records) : Napi::Buffer<char>::New(env, 0));
    chunk.Set("items", items);
    return chunk;
  }

  Napi::Value SetStats(const Napi::CallbackInfo& info) {
    server_->set_replication_stats(info[0].ToString().Utf8Value());
    return info.Env().Undefined();
  }

  // setAcknowledged(offset | null): sync mode's gate (null: no peer, replies go at once).
  Napi::Value SetAcknowledged(const Napi::CallbackInfo& info) {
    int64_t acked = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : -1;
    server_->set_acknowledged(acked);
    return info.Env().Undefined();
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
  RecordsNotifier* notifier_ = nullptr;
  bool started_ = false;
  bool stopping_ = false;
};

}  // namespace
}  // namespace mcha

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  mcha::register_bench_hooks(env, exports);
  mcha::register_proxy_hooks(env, exports);
  mcha::register_proxy_core(env, exports);
  exports.Set("frameRequests", Napi::Function::New(env, mcha::FrameRequests, "frameRequests"));
  exports.Set("setLogFd", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    if (info.Length() == 1 && info[0].IsNumber()) mcha::set_log_fd(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }, "setLogFd"));
  return mcha::NativeEngine::Init(env, exports);
}

NODE_API_MODULE(memcache_ha_native, InitAddon)

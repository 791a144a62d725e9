// The engine's side of the coarse boundary between TypeScript and C++, as the NativeEngine
// class: construct with Settings, start, stop, and for replication: drain the mutation log,
// apply a batch of records, read a snapshot chunk, set the replication state. Requests never
// cross it; events do (records waiting, at most once per loop turn; a `shutdown` command; stop
// completion).
#include <napi.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "bindings/bindings.h"
#include "bindings/js_call.h"
#include "common/loop_notifier.h"
#include "engine/native_engine.h"

namespace mcha {
namespace {

struct Event {
  enum Type { Shutdown, Stopped } type;
  bool graceful;
};

// Tells JavaScript that the mutation log has records: at most once per loop iteration, after
// that iteration's reads, and without a syscall (a thread-safe function costs an eventfd write
// and an extra loop iteration per notification, which at hundreds of thousands of writes per
// second halved the node's throughput).
class RecordsNotifier {
 public:
  RecordsNotifier(napi_env env, uv_loop_t* loop, napi_value callback) : js_(env, callback, "memcache-ha-native records") {
    loop_ = new LoopNotifier(loop, [this] { notify(); });
  }

  // Called when the log gets its first record since the last drain.
  void arm() { loop_->arm(); }

  // Frees itself (and lets go of the callback) once libuv has closed the handles.
  void destroy() {
    loop_->destroy([this] { delete this; });
  }

 private:
  void notify() {
    napi_env env = js_.env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value argv[2];
    napi_create_string_utf8(env, "records", NAPI_AUTO_LENGTH, &argv[0]);
    napi_get_boolean(env, false, &argv[1]);
    js_.call(2, argv);
    napi_close_handle_scope(env, scope);
  }

  LoopCallback js_;
  LoopNotifier* loop_;
};

void free_records(Napi::Env, char* data) { free(data); }

class EngineBinding : public Napi::ObjectWrap<EngineBinding> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "NativeEngine",
                                     {InstanceMethod("start", &EngineBinding::Start), InstanceMethod("stop", &EngineBinding::Stop),
                                      InstanceMethod("pending", &EngineBinding::Pending),
                                      InstanceMethod("drainInto", &EngineBinding::DrainInto), InstanceMethod("apply", &EngineBinding::Apply),
                                      InstanceMethod("snapshotBegin", &EngineBinding::SnapshotBegin),
                                      InstanceMethod("snapshotNext", &EngineBinding::SnapshotNext),
                                      InstanceMethod("setStats", &EngineBinding::SetStats),
                                      InstanceMethod("stats", &EngineBinding::Stats),
                                      InstanceMethod("setAcknowledged", &EngineBinding::SetAcknowledged),
                                      InstanceMethod("setCredentials", &EngineBinding::SetCredentials)});
    exports.Set("NativeEngine", cls);
  }

  // new NativeEngine(settings, onEvent(type: 'shutdown' | 'stopped' | 'records', graceful: boolean))
  explicit EngineBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineBinding>(info) {
    Napi::Env env = info.Env();
    if (!settings_and_callback(info, "NativeEngine(settings, onEvent)")) return;
    Napi::Object o = info[0].As<Napi::Object>();
    Settings settings;
    settings.listen = o.Get("listen").ToString().Utf8Value();
    settings.port = o.Get("port").ToNumber().Uint32Value();
    settings.max_bytes = static_cast<uint64_t>(o.Get("maxBytes").ToNumber().DoubleValue());
    settings.max_connections = o.Get("maxConnections").ToNumber().Uint32Value();
    settings.threads = o.Get("threads").ToNumber().Uint32Value();
    settings.reqs_per_event = o.Get("reqsPerEvent").ToNumber().Uint32Value();
    settings.item_size_max = o.Get("itemSizeMax").ToNumber().Uint32Value();
    settings.verbosity = o.Get("verbosity").ToNumber().Int32Value();
    settings.evictions = o.Get("evictions").ToBoolean().Value();
    settings.cas_enabled = o.Get("casEnabled").ToBoolean().Value();
    settings.shutdown_enabled = o.Get("shutdownEnabled").ToBoolean().Value();
    settings.flush_enabled = o.Get("flushEnabled").ToBoolean().Value();
    std::string protocol = o.Get("protocol").ToString().Utf8Value();
    settings.protocol = protocol == "ascii" ? BindingProtocol::Ascii : protocol == "binary" ? BindingProtocol::Binary : BindingProtocol::Auto;
    settings.sasl = o.Get("sasl").ToBoolean().Value();
    settings.ascii_auth = o.Get("asciiAuth").ToBoolean().Value();
    settings.auth_file = o.Get("authFile").ToString().Utf8Value();
    settings.version = o.Get("version").ToString().Utf8Value();
    settings.replicated = o.Get("replicated").ToBoolean().Value();
    settings.sync_mode = o.Get("syncMode").ToBoolean().Value();
    settings.node_id = o.Get("nodeId").ToNumber().Uint32Value();
    Napi::Object l;
    if (!object_property(o, "limits", "NativeEngine", l)) return;
    settings.lines = line_limits(l);
    settings.output_high_water = size_of(l, "outputHighWater");
    settings.output_flush_at = size_of(l, "outputFlushAt");
    settings.tombstones.ttl_ms = size_of(l, "tombstoneTtlMs");
    settings.tombstones.max = size_of(l, "tombstoneMax");
    events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "memcache-ha-native events", 0, 1);
    events_.Unref(env);
    // The store exists before the client port opens: a replica takes records while it catches up.
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto events = events_;
    if (settings.replicated) notifier_ = new RecordsNotifier(env, loop, info[1]);
    RecordsNotifier* notifier = notifier_;
    engine_ = std::make_unique<NativeEngine>(
        loop, std::move(settings),
        [events](bool graceful) mutable { events.NonBlockingCall(new Event{Event::Shutdown, graceful}, Deliver); },
        [notifier]() { notifier->arm(); });
  }

  ~EngineBinding() override {
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
    std::string listen = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : engine_->settings().listen;
    std::string host;
    uint32_t port = 0;
    int rc = engine_->start(listen, host, port);
    return listen_result(env, rc, host, port);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (stopping_) return env.Undefined();
    stopping_ = true;
    // Keeps the loop alive until 'stopped' is delivered, after the last handle closed.
    events_.Ref(env);
    auto events = events_;
    engine_->stop([events]() mutable {
      events.NonBlockingCall(new Event{Event::Stopped, false}, Deliver);
      events.Release();
    });
    return env.Undefined();
  }

  // pending(): bytes of this node's records waiting to be drained, sealed for drainInto.
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->pending()));
  }

  // drainInto(target: Buffer, at: number): number -- copies every waiting record into `target`
  // at `at` (memory the replication layer reuses: steady writing allocates nothing on either
  // side) and returns how many records they were.
  Napi::Value DrainInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsNumber() || !engine_->replicated()) {
      Napi::TypeError::New(env, "drainInto(target: Buffer, at: number) on a replicated engine").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<char> target = info[0].As<Napi::Buffer<char>>();
    double at = info[1].As<Napi::Number>().DoubleValue();
    // The records pending() sealed (or, without it, those waiting now): what drain_into copies.
    size_t n = engine_->pending();
    if (!(at >= 0) || at > static_cast<double>(target.Length()) || target.Length() - static_cast<size_t>(at) < n) {
      Napi::RangeError::New(env, "drainInto: the target has no room for the waiting records").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, engine_->drain_into(target.Data() + static_cast<size_t>(at)));
  }

  // apply(records: Buffer): throws an Error saying what was malformed (after applying what preceded it).
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer() || !engine_->replicated()) {
      Napi::TypeError::New(env, "apply(records: Buffer) on a replicated engine").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto buf = info[0].As<Napi::Buffer<char>>();
    auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count());
    const char* err = engine_->apply(buf.Data(), buf.Length(), now_ms);
    if (err) Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value SnapshotBegin(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), engine_->replicated() ? static_cast<double>(engine_->snapshot_begin()) : 0);
  }

  // snapshotNext(maxBytes): {bytes: Buffer, items: number} | null once complete.
  Napi::Value SnapshotNext(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!engine_->replicated()) return env.Null();
    size_t max_bytes = info.Length() > 0 ? static_cast<size_t>(info[0].ToNumber().Int64Value()) : 256 * 1024;
    RecordBuffer out;
    bool done = false;
    uint32_t items = engine_->snapshot_next(out, max_bytes, done);
    if (done) return env.Null();
    size_t len = out.size();
    char* data = out.release();
    Napi::Object chunk = Napi::Object::New(env);
    chunk.Set("bytes", data ? Napi::Buffer<char>::New(env, data, len, free_records) : Napi::Buffer<char>::New(env, 0));
    chunk.Set("items", items);
    return chunk;
  }

  Napi::Value SetStats(const Napi::CallbackInfo& info) {
    engine_->set_replication_stats(info[0].ToString().Utf8Value());
    return info.Env().Undefined();
  }

  // stats(group): [name, value][] of that `stats` group, or null for one memcached does not know.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<std::pair<std::string, std::string>> lines;
    if (!engine_->stats(info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string(), lines)) return env.Null();
    Napi::Array out = Napi::Array::New(env, lines.size());
    for (size_t i = 0; i < lines.size(); i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(uint32_t{0}, Napi::String::New(env, lines[i].first));
      pair.Set(uint32_t{1}, Napi::String::New(env, lines[i].second));
      out.Set(static_cast<uint32_t>(i), pair);
    }
    return out;
  }

  // setAcknowledged(offset | null): sync mode's gate (null: no peer, replies go at once).
  Napi::Value SetAcknowledged(const Napi::CallbackInfo& info) {
    int64_t acked = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : -1;
    engine_->set_acknowledged(acked);
    return info.Env().Undefined();
  }

  // setCredentials(kind: 'sasl' | 'ascii', users: [user, password][]): the strings are latin1
  // bytes, as the password files hold them.
  Napi::Value SetCredentials(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string kind = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if ((kind != "sasl" && kind != "ascii") || info.Length() < 2 || !info[1].IsArray()) {
      Napi::TypeError::New(env, "setCredentials(kind: 'sasl' | 'ascii', users: [string, string][])").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array list = info[1].As<Napi::Array>();
    std::vector<std::pair<std::string, std::string>> users;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value entry = list.Get(i);
      Napi::Array pair = entry.IsArray() ? entry.As<Napi::Array>() : Napi::Array();
      if (!entry.IsArray() || pair.Length() < 2 || !pair.Get(0u).IsString() || !pair.Get(1u).IsString()) {
        Napi::TypeError::New(env, "setCredentials: each user is [user: string, password: string]").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      users.emplace_back(latin1(pair.Get(0u).As<Napi::String>()), latin1(pair.Get(1u).As<Napi::String>()));
    }
    engine_->set_credentials(kind == "sasl" ? CredentialKind::Sasl : CredentialKind::Ascii, std::move(users));
    return env.Undefined();
  }

  // A JavaScript string of latin1 bytes as those bytes.
  static std::string latin1(Napi::String s) {
    napi_env env = s.Env();
    size_t n = 0;
    napi_get_value_string_latin1(env, s, nullptr, 0, &n);
    std::string out(n, '\0');
    if (n) napi_get_value_string_latin1(env, s, &out[0], n + 1, &n);
    return out;
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

  std::unique_ptr<NativeEngine> engine_;
  Napi::ThreadSafeFunction events_;
  RecordsNotifier* notifier_ = nullptr;
  bool started_ = false;
  bool stopping_ = false;
};

}  // namespace

void register_engine(Napi::Env env, Napi::Object exports) { EngineBinding::Init(env, exports); }

}  // namespace mcha

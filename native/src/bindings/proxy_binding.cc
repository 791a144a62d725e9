// The proxy core as the ProxyCore class of JavaScript (src/proxy/native-core.ts drives it), and
// the delivery of its events to the JavaScript callback.
#include <uv.h>

#include <algorithm>
#include <memory>
#include <string>

#include "bindings/bindings.h"
#include "bindings/js_call.h"
#include "common/net_address.h"
#include "proxy/proxy_core.h"

namespace mcha {
namespace {

// Calls the JavaScript onEvent(type, a, b, detail, binary) for each event; the callback's reference is
// let go with the last copy (when the core stops).
class EventDelivery {
 public:
  EventDelivery(napi_env env, napi_value callback) : js_(std::make_shared<LoopCallback>(env, callback, "memcache-ha-native proxy")) {}

  void operator()(const ProxyEvent& e) const {
    napi_env env = js_->env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value argv[5];
    napi_create_int32(env, e.type, &argv[0]);
    napi_create_int32(env, e.a, &argv[1]);
    napi_create_int32(env, e.b, &argv[2]);
    if (e.type == kEventFailure) {
      napi_value msg, replies, pair;
      napi_create_string_utf8(env, e.text.data(), e.text.size(), &msg);
      napi_create_double(env, e.replies, &replies);
      napi_create_array_with_length(env, 2, &pair);
      napi_set_element(env, pair, 0, msg);
      napi_set_element(env, pair, 1, replies);
      argv[3] = pair;
    } else {
      void* copy = nullptr;
      napi_create_buffer_copy(env, e.text.size(), e.text.data(), &copy, &argv[3]);
    }
    napi_get_boolean(env, e.binary, &argv[4]);
    js_->call(5, argv);
    napi_close_handle_scope(env, scope);
  }

 private:
  std::shared_ptr<LoopCallback> js_;
};

// new ProxyCore({maxValue, maxClients, connectionsPerNode, limits, nodes: [{host, port}], points: Uint32Array},
//               onEvent(type, a, b, detail)): events.failure = a node failed (node, timeout?,
// [message, replies]), events.handoff = a client for the TypeScript path (fd, lane, unread bytes, whether it speaks binary).
class ProxyBinding : public Napi::ObjectWrap<ProxyBinding> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "ProxyCore",
                                     {InstanceMethod("listen", &ProxyBinding::Listen), InstanceMethod("setRoutes", &ProxyBinding::SetRoutes),
                                      InstanceMethod("checkTimeouts", &ProxyBinding::CheckTimeouts),
                                      InstanceMethod("setOtherClients", &ProxyBinding::SetOtherClients),
                                      InstanceMethod("stats", &ProxyBinding::Stats), InstanceMethod("resetStats", &ProxyBinding::ResetStats),
                                      InstanceMethod("listenUnix", &ProxyBinding::ListenUnix),
                                      InstanceMethod("setAddress", &ProxyBinding::SetAddress),
                                      InstanceMethod("addNode", &ProxyBinding::AddNode),
                                      InstanceMethod("stop", &ProxyBinding::Stop)});
    // The layout of stats() and the event types, so TypeScript reads them rather than restates them.
    Napi::Array names = Napi::Array::New(env, kProxyCounters);
    for (uint32_t i = 0; i < kProxyCounters; i++) names.Set(i, kProxyCounterNames[i]);
    cls.Set("counterNames", names);
    Napi::Object node = Napi::Object::New(env);
    node.Set("requests", static_cast<uint32_t>(kNodeRequests));
    node.Set("failovers", static_cast<uint32_t>(kNodeFailovers));
    node.Set("latencySumUs", static_cast<uint32_t>(kNodeLatencySumUs));
    node.Set("latency", static_cast<uint32_t>(kNodeLatency));
    node.Set("latencyBuckets", kLatencyBuckets);
    node.Set("size", kNodeCounters);
    cls.Set("nodeCounters", node);
    Napi::Object events = Napi::Object::New(env);
    events.Set("failure", static_cast<int32_t>(kEventFailure));
    events.Set("handoff", static_cast<int32_t>(kEventHandoff));
    cls.Set("events", events);
    exports.Set("ProxyCore", cls);
  }

  explicit ProxyBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProxyBinding>(info) {
    Napi::Env env = info.Env();
    if (!settings_and_callback(info, "ProxyCore(settings, onEvent)")) return;
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value nodes = o.Get("nodes");
    Napi::Value points = o.Get("points");
    if (!nodes.IsArray() || !points.IsTypedArray() || points.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Napi::TypeError::New(env, "ProxyCore: nodes (array) and points (Uint32Array)").ThrowAsJavaScriptException();
      return;
    }
    ProxySettings settings;
    settings.max_value = size_of(o, "maxValue");
    settings.max_clients = o.Get("maxClients").ToNumber().Uint32Value();
    settings.lanes = std::max<size_t>(size_of(o, "connectionsPerNode"), 1);
    Napi::Object l;
    if (!object_property(o, "limits", "ProxyCore", l)) return;
    settings.lines = line_limits(l);
    settings.max_in_flight = static_cast<uint32_t>(size_of(l, "maxInFlight"));
    settings.output_high_water = size_of(l, "outputHighWater");
    settings.backend_max_unsent = size_of(l, "backendMaxUnsent");
    settings.max_tries = static_cast<int>(size_of(l, "maxTries"));
    settings.candidates = static_cast<int>(size_of(l, "candidates"));
    if (settings.max_tries < 1 || settings.max_tries > kTriedCapacity || settings.candidates < 1) {
      Napi::RangeError::New(env, "ProxyCore: limits.maxTries 1.." + std::to_string(kTriedCapacity) + ", limits.candidates >= 1").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* core = new ProxyCore(loop, settings, EventDelivery(env, info[1]));
    Napi::Array list = nodes.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object n = list.Get(i).As<Napi::Object>();
      if (n.Get("host").IsNull()) {
        core->add_node(nullptr);
        continue;
      }
      sockaddr_storage addr;
      if (!numeric_address(n, addr)) {
        core->stop();
        return;
      }
      core->add_node(&addr);
    }
    Napi::Uint32Array p = points.As<Napi::Uint32Array>();
    core->set_points(p.Data(), p.ElementLength());
    core_ = core;
    nodes_ = list.Length();
    points_ = p.ElementLength();
    candidates_ = static_cast<size_t>(settings.candidates);
  }

  ~ProxyBinding() override {
    if (core_) core_->stop();
  }

 private:
  bool live(const Napi::CallbackInfo& info) {
    if (core_) return true;
    Napi::Error::New(info.Env(), "the proxy core is stopped").ThrowAsJavaScriptException();
    return false;
  }

  // listen(host, port) -> {host, port}; throws an Error with a libuv `code`.
  Napi::Value Listen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    std::string host;
    uint32_t port = 0;
    int rc = core_->listen(info[0].ToString().Utf8Value(), info[1].ToNumber().Uint32Value(), host, port);
    return listen_result(env, rc, host, port);
  }

  // listenUnix(path) -> {path}; throws an Error with a libuv `code`.
  Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    std::string path = info[0].ToString().Utf8Value();
    int rc = core_->listen_unix(path);
    if (rc != 0) return listen_result(env, rc, "", 0);
    Napi::Object out = Napi::Object::New(env);
    out.Set("path", path);
    return out;
  }

  // setAddress(node, {host, port}): the numeric address of a node whose name did not resolve before.
  Napi::Value SetAddress(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    uint32_t node = info[0].ToNumber().Uint32Value();
    if (node >= nodes_ || !info[1].IsObject()) {
      Napi::RangeError::New(env, "setAddress(node, {host, port}): no such node").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sockaddr_storage addr;
    if (numeric_address(info[1].As<Napi::Object>(), addr)) core_->set_address(node, addr);
    return env.Undefined();
  }

  // addNode({host, port} | {host: null}) -> its index: a server a reload added.
  Napi::Value AddNode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "addNode({host, port})").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // Node indexes travel as int16 in the routing table.
    if (nodes_ >= 32767) {
      Napi::RangeError::New(env, "addNode: 32767 nodes at most").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object n = info[0].As<Napi::Object>();
    if (n.Get("host").IsNull()) {
      core_->add_node(nullptr);
    } else {
      sockaddr_storage addr;
      if (!numeric_address(n, addr)) return env.Undefined();
      core_->add_node(&addr);
    }
    return Napi::Number::New(env, static_cast<double>(nodes_++));
  }

  // {host, port} with a numeric host as a socket address; else throws a TypeError.
  static bool numeric_address(const Napi::Object& n, sockaddr_storage& addr) {
    std::string host = n.Get("host").ToString().Utf8Value();
    if (parse_address(host, n.Get("port").ToNumber().Uint32Value(), addr) == 0) return true;
    Napi::TypeError::New(n.Env(), "ProxyCore: not a numeric address: " + host).ThrowAsJavaScriptException();
    return false;
  }

  // setRoutes(candidates: Int16Array (4 per point), home: Int16Array (1 per point), up: Uint8Array
  // (1 per node)[, points: Uint32Array]): with points, a new ring (a reload), in force from here on.
  Napi::Value SetRoutes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
      Napi::TypeError::New(env, "setRoutes(candidates, home, up[, points])").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto cand = info[0].As<Napi::TypedArray>();
    auto home = info[1].As<Napi::TypedArray>();
    auto up = info[2].As<Napi::TypedArray>();
    bool ring = info.Length() > 3 && !info[3].IsUndefined();
    if (ring && (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
                 info[3].As<Napi::TypedArray>().ElementLength() == 0)) {
      Napi::TypeError::New(env, "setRoutes: points is a non-empty Uint32Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    size_t points = ring ? info[3].As<Napi::TypedArray>().ElementLength() : points_;
    if (cand.TypedArrayType() != napi_int16_array || home.TypedArrayType() != napi_int16_array || up.TypedArrayType() != napi_uint8_array ||
        cand.ElementLength() != points * candidates_ || home.ElementLength() != points || up.ElementLength() != nodes_) {
      Napi::RangeError::New(env, "setRoutes: Int16Array(4 x points), Int16Array(points), Uint8Array(nodes)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int16_t* c = cand.As<Napi::Int16Array>().Data();
    const int16_t* h = home.As<Napi::Int16Array>().Data();
    for (size_t i = 0; i < points * candidates_; i++)
      if (c[i] >= static_cast<int64_t>(nodes_)) return RangeError(env);
    for (size_t i = 0; i < points; i++)
      if (h[i] < 0 || h[i] >= static_cast<int64_t>(nodes_)) return RangeError(env);
    if (ring) {
      Napi::Uint32Array p = info[3].As<Napi::Uint32Array>();
      core_->set_points(p.Data(), points);
      points_ = points;
    }
    core_->set_routes(c, h, up.As<Napi::Uint8Array>().Data());
    return env.Undefined();
  }

  Napi::Value RangeError(Napi::Env env) {
    Napi::RangeError::New(env, "setRoutes: a node index out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value CheckTimeouts(const Napi::CallbackInfo& info) {
    if (core_) core_->check_timeouts(static_cast<uint64_t>(info[0].ToNumber().Int64Value()));
    return info.Env().Undefined();
  }

  Napi::Value SetOtherClients(const Napi::CallbackInfo& info) {
    if (core_) core_->set_other_clients(info[0].ToNumber().Uint32Value());
    return info.Env().Undefined();
  }

  // stats(): Float64Array: the proxy counters, then per node: requests, failovers, 32 latency buckets.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live(info)) return env.Undefined();
    std::vector<double> v;
    core_->stats(v);
    Napi::Float64Array out = Napi::Float64Array::New(env, v.size());
    std::copy(v.begin(), v.end(), out.Data());
    return out;
  }

  Napi::Value ResetStats(const Napi::CallbackInfo& info) {
    if (core_) core_->reset_stats();
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (core_) core_->stop();
    core_ = nullptr;
    return info.Env().Undefined();
  }

  ProxyCore* core_ = nullptr;
  size_t nodes_ = 0;
  size_t points_ = 0;
  size_t candidates_ = 0;
};

}  // namespace

void register_proxy(Napi::Env env, Napi::Object exports) { ProxyBinding::Init(env, exports); }

}  // namespace mcha

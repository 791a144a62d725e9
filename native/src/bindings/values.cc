// Conversions between JavaScript values and the C++ settings and results the bindings share.
#include <uv.h>

#include "bindings/bindings.h"

namespace mcha {

Napi::Value listen_result(Napi::Env env, int rc, const std::string& host, uint32_t port) {
  if (rc != 0) {
    Napi::Error e = Napi::Error::New(env, uv_strerror(rc));
    e.Set("code", Napi::String::New(env, uv_err_name(rc)));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("host", host);
  out.Set("port", port);
  return out;
}

bool settings_and_callback(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() >= 2 && info[0].IsObject() && info[1].IsFunction()) return true;
  Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
  return false;
}

bool object_property(const Napi::Object& o, const char* name, const char* who, Napi::Object& out) {
  Napi::Value v = o.Get(name);
  if (v.IsObject()) {
    out = v.As<Napi::Object>();
    return true;
  }
  Napi::TypeError::New(o.Env(), std::string(who) + ": settings." + name).ThrowAsJavaScriptException();
  return false;
}

size_t size_of(const Napi::Object& o, const char* name) {
  double v = o.Get(name).ToNumber().DoubleValue();
  return v > 0 ? static_cast<size_t>(v) : 0;
}

LineLimits line_limits(const Napi::Object& o) {
  LineLimits l;
  l.max_command_line = size_of(o, "maxCommandLine");
  l.max_complete_line = size_of(o, "maxCompleteLine");
  l.max_get_line = size_of(o, "maxGetLine");
  return l;
}

}  // namespace mcha

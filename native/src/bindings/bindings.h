// The N-API side of the addon: each binding turns one C++ part into JavaScript objects, and
// only these files include napi.h. addon.cc registers them all.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "protocol/line_limits.h"

namespace mcha {

void register_engine(Napi::Env env, Napi::Object exports);     // NativeEngine
void register_proxy(Napi::Env env, Napi::Object exports);      // ProxyCore
void register_log(Napi::Env env, Napi::Object exports);        // setLogFd

// What a JavaScript listen()/start() returns: {host, port}, or, for a libuv error `rc`, an
// Error with its `code` (EADDRINUSE...) thrown.
Napi::Value listen_result(Napi::Env env, int rc, const std::string& host, uint32_t port);

// Whether a constructor got (settings: object, onEvent: function); else throws `usage` as a TypeError.
bool settings_and_callback(const Napi::CallbackInfo& info, const char* usage);

// The object property `name` of `o`; else throws "<who>: settings.<name>" as a TypeError.
bool object_property(const Napi::Object& o, const char* name, const char* who, Napi::Object& out);

// A non-negative integer property (a size or a count) of a settings object.
size_t size_of(const Napi::Object& o, const char* name);

// {maxCommandLine, maxCompleteLine, maxGetLine} as src/protocol/line-limits.ts declares them.
LineLimits line_limits(const Napi::Object& o);

}  // namespace mcha

// The proxy's data path in C++: client connections, routing and the backend connections, for
// the requests the proxy forwards as they are (see frame_plain). TypeScript stays the control
// plane: it owns health (failures reported from here, probes, who is out), pushes the routing
// table, and takes over a client connection for good at its first request of any other kind
// (stats, version, flush_all, verbosity, an error...), after every reply owed on it went out.
#pragma once
#include <napi.h>

namespace mcha {

void register_proxy_core(Napi::Env env, Napi::Object exports);

}  // namespace mcha

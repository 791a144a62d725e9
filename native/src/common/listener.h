// A TCP listener on a libuv loop, set up the one way both C++ data paths (the node's server and
// the proxy's) need it.
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>

namespace mcha {

// Binds `handle` to a numeric address and listens (backlog 1024). Returns 0 with the bound
// address filled in, or a libuv error code. `opened` is set once the handle is initialised:
// from then on the caller closes it, also when binding failed.
int listen_tcp(uv_loop_t* loop, uv_tcp_t* handle, const std::string& host, uint32_t port, uv_connection_cb on_connection,
               bool& opened, std::string& bound_host, uint32_t& bound_port);

// The same socket for a listener that accepts by itself (the node's worker threads take the
// accepted descriptors to their own loops): bound and listening, but not watched by libuv.
// Returns 0 with the descriptor in `fd`, or a libuv error code; `opened` as above.
int listen_tcp_fd(uv_loop_t* loop, uv_tcp_t* handle, const std::string& host, uint32_t port, bool& opened, int& fd,
                  std::string& bound_host, uint32_t& bound_port);

}  // namespace mcha

#include "common/listener.h"

#include "common/net_address.h"

namespace mcha {

int listen_tcp(uv_loop_t* loop, uv_tcp_t* handle, const std::string& host, uint32_t port, uv_connection_cb on_connection,
               bool& opened, std::string& bound_host, uint32_t& bound_port) {
  opened = false;
  sockaddr_storage addr;
  int rc = parse_address(host, port, addr);
  if (rc != 0) return rc;
  rc = uv_tcp_init(loop, handle);
  if (rc != 0) return rc;
  opened = true;
  rc = uv_tcp_bind(handle, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle), 1024, on_connection);
  if (rc != 0) return rc;
  bound_address(handle, bound_host, bound_port);
  return 0;
}

}  // namespace mcha

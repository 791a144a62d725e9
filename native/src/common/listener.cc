#include "common/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

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

int listen_tcp_fd(uv_loop_t* loop, uv_tcp_t* handle, const std::string& host, uint32_t port, bool& opened, int& fd,
                  std::string& bound_host, uint32_t& bound_port) {
  opened = false;
  sockaddr_storage addr;
  int rc = parse_address(host, port, addr);
  if (rc != 0) return rc;
  // The socket is made now (uv_tcp_init_ex), but bound and listened on here, not by libuv:
  // libuv's bind defers EADDRINUSE to its listen, and its listen would start accepting.
  rc = uv_tcp_init_ex(loop, handle, addr.ss_family);
  if (rc != 0) return rc;
  opened = true;
  uv_os_fd_t os_fd;
  rc = uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &os_fd);
  if (rc != 0) return rc;
  int on = 1;
  if (setsockopt(os_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) return -errno;
  socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(os_fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return -errno;
  if (::listen(os_fd, 1024) != 0) return -errno;
  fd = os_fd;
  bound_address(handle, bound_host, bound_port);
  return 0;
}

}  // namespace mcha

// The proxy core's lifecycle, its loop work and its events (see proxy_core.h for the whole).
#include "proxy/proxy_core.h"

#include <unistd.h>

#include <algorithm>

#include "common/listener.h"

namespace mcha {

ProxyCore::ProxyCore(uv_loop_t* loop, const ProxySettings& settings, std::function<void(const ProxyEvent&)> deliver)
    : loop_(loop), settings_(settings), deliver_(std::move(deliver)) {
  notifier_ = new LoopNotifier(loop, [this] { on_turn(); });
  uv_timer_init(loop, &later_timer_);
  later_timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&later_timer_));
  open_ = 2;  // the notifier and the timer
}

int ProxyCore::listen(const std::string& host, uint32_t port, std::string& bound_host, uint32_t& bound_port) {
  listener_.tcp.data = this;
  int rc = listen_tcp(loop_, &listener_.tcp, host, port, on_connection, listening_, bound_host, bound_port);
  if (listening_) open_++;
  if (rc != 0) close_listener();
  return rc;
}

int ProxyCore::listen_unix(const std::string& path) {
  int rc = uv_pipe_init(loop_, &listener_.pipe, 0);
  if (rc != 0) return rc;
  listener_.pipe.data = this;
  listening_ = true;
  unix_ = true;
  open_++;
  rc = uv_pipe_bind(&listener_.pipe, path.c_str());
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_.pipe), 1024, on_connection);
  if (rc != 0) close_listener();
  return rc;
}

void ProxyCore::stats(std::vector<double>& out) {
  counters_[kCurrConnections] = static_cast<double>(clients_.size());
  out.assign(counters_, counters_ + kProxyCounters);
  for (const BackendNode& n : nodes_) out.insert(out.end(), n.counters, n.counters + kNodeCounters);
}

void ProxyCore::reset_stats() {
  for (int i = kRequests; i < kProxyCounters; i++) counters_[i] = 0;
  for (BackendNode& n : nodes_) std::fill(n.counters, n.counters + kNodeCounters, 0.0);
}

void ProxyCore::stop() {
  if (stopping_) return;
  stopping_ = true;
  deliver_ = nullptr;
  // Clients on their way to the TypeScript path are dropped with the rest.
  for (const ProxyEvent& e : events_)
    if (e.type == kEventHandoff) ::close(e.a);
  events_.clear();
  close_listener();
  std::vector<ClientConnection*> all;
  for (auto& kv : clients_) all.push_back(kv.second);
  for (ClientConnection* c : all) close_client(c);
  for (BackendNode& n : nodes_)
    for (auto* list : {&n.conns, &n.bconns})
      for (BackendConnection* c : *list)
        if (c) c->close("the proxy stops", CloseReason::ByOwner);
  notifier_->destroy([this] { handle_closed(); });
  uv_close(reinterpret_cast<uv_handle_t*>(&later_timer_), on_handle_closed);
}

// Once per loop turn with work queued: the replies ready, then the events.
void ProxyCore::on_turn() {
  flush_listed(dirty_, &ClientConnection::dirty, false);
  deliver_events();
}

// Flushes the clients listed in `ids` (emptied first: flushing may list clients again),
// clearing the flag that listed each.
void ProxyCore::flush_listed(std::vector<uint32_t>& ids, bool ClientConnection::*listed, bool force) {
  std::vector<uint32_t> now;
  now.swap(ids);
  for (uint32_t id : now) {
    ClientConnection* c = find(id);
    if (!c) continue;
    c->*listed = false;
    flush(c, force);
  }
}

void ProxyCore::on_later(uv_timer_t* t) {
  auto* core = static_cast<ProxyCore*>(t->data);
  core->flush_listed(core->later_, &ClientConnection::later, true);
}

void ProxyCore::deliver_events() {
  while (!events_.empty() && !stopping_) {
    ProxyEvent e = std::move(events_.front());
    events_.pop_front();
    // A copy: the call may stop the proxy, which lets go of deliver_.
    std::function<void(const ProxyEvent&)> deliver = deliver_;
    if (deliver) deliver(e);
  }
}

void ProxyCore::close_listener() {
  if (!listening_) return;
  listening_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), on_handle_closed);
}

void ProxyCore::on_handle_closed(uv_handle_t* h) { static_cast<ProxyCore*>(h->data)->handle_closed(); }

void ProxyCore::handle_closed() {
  if (--open_ == 0 && stopping_) delete this;
}

}  // namespace mcha

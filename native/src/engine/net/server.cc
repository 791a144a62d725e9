#include "engine/net/server.h"

#include "common/listener.h"
#include "common/log.h"
#include "common/net_address.h"
#include "engine/net/connection.h"
#include "engine/net/limits.h"

namespace mcha {

Server::Server(uv_loop_t* loop, const Settings& settings, Store& store, Commands& commands, ConnectionCounters& counters, SyncGate* gate)
    : loop_(loop), settings_(settings), store_(store), commands_(commands), counters_(counters), gate_(gate) {}

Server::~Server() = default;

int Server::listen(const std::string& host, std::string& bound_host, uint32_t& bound_port) {
  listener_.data = this;
  bool opened = false;
  int rc = listen_tcp(loop_, &listener_, host, settings_.port, on_connection, opened, bound_host, port_);
  if (opened) {
    handles_open_++;
    listening_ = true;
  }
  if (rc != 0) {
    stopping_ = true;
    close_listener();
    return rc;
  }
  bound_port = port_;
  return 0;
}

std::vector<ConnectionInfo> Server::describe_connections() {
  std::vector<ConnectionInfo> out;
  for (Connection* c : open_) {
    if (c->counted) out.push_back(c->describe());
  }
  return out;
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* s = static_cast<Server*>(listener->data);
  if (status != 0 || s->stopping_) return;
  auto* c = new Connection(*s, s->next_id_++);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(c->handle())) != 0) {
    s->open_.insert(c);
    c->close_after_flush();
    return;
  }
  s->open_.insert(c);
  if (s->counters_.curr >= s->settings_.max_connections) {
    s->counters_.rejected++;
    if (s->settings_.verbosity >= 1) log_line("info", "refused a connection: -c " + std::to_string(s->settings_.max_connections) + " reached");
    static char kTooMany[] = "ERROR Too many open connections\r\n";
    auto* req = new uv_write_t;
    uv_buf_t buf = uv_buf_init(kTooMany, sizeof(kTooMany) - 1);
    if (uv_write(req, reinterpret_cast<uv_stream_t*>(c->handle()), &buf, 1, [](uv_write_t* r, int) { delete r; }) != 0) delete req;
    c->close_after_flush();
    return;
  }
  s->counters_.curr++;
  s->counters_.total++;
  c->counted = true;
  if (s->settings_.verbosity >= 2) log_line("debug", "<" + std::to_string(c->id()) + " new client connection from " + peer_address(c->handle()));
  c->start();
}

void Server::connection_closed(Connection* c) {
  if (c->counted) {
    counters_.curr--;
    if (settings_.verbosity >= 2) log_line("debug", "<" + std::to_string(c->id()) + " connection closed");
  }
  open_.erase(c);
  delete c;
  maybe_done();
}

void Server::stop(std::function<void()> done) {
  done_ = std::move(done);
  stopping_ = true;
  close_listener();
  std::set<Connection*> snapshot = open_;
  for (Connection* c : snapshot) c->close_after_flush();
  uv_timer_init(loop_, &stop_timer_);
  stop_timer_.data = this;
  handles_open_++;
  uv_timer_start(&stop_timer_, [](uv_timer_t* t) {
    auto* s = static_cast<Server*>(t->data);
    std::set<Connection*> left = s->open_;
    for (Connection* c : left) c->close_now();
  }, kStopGraceMs, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&stop_timer_));
  maybe_done();
}

void Server::close_listener() {
  if (!listening_) return;
  listening_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), [](uv_handle_t* h) {
    auto* s = static_cast<Server*>(h->data);
    s->handles_open_--;
    s->maybe_done();
  });
}

void Server::maybe_done() {
  if (!stopping_ || !done_) return;
  if (!open_.empty()) return;
  if (handles_open_ == 1) {
    handles_open_ = 0;
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), [](uv_handle_t* h) {
      auto* s = static_cast<Server*>(h->data);
      auto done = std::move(s->done_);
      s->done_ = nullptr;
      if (done) done();
    });
  }
}

}  // namespace mcha

#include "engine/net/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/listener.h"
#include "common/log.h"
#include "engine/net/connection.h"

namespace mcha {
namespace {

// Connections taken per wake of the listening socket, so a storm of them cannot hold the loop.
constexpr int kAcceptBatch = 64;
// Out of descriptors: accepting pauses this long (memcached's maxconns_handler waits 10 ms).
constexpr uint64_t kAcceptPauseMs = 10;

}  // namespace

Server::Server(uv_loop_t* loop, const Settings& settings, Store& store, std::mutex& store_lock, Commands& commands, SyncGate* gate)
    : loop_(loop), settings_(settings), store_(store), store_lock_(store_lock), commands_(commands), gate_(gate) {
  size_t n = settings.threads > 1 ? settings.threads : 1;
  for (size_t i = 0; i < n; i++) workers_.push_back(std::make_unique<Worker>(*this, loop, n > 1));
}

Server::~Server() {
  // Destroyed without stop() (the environment is torn down): the threads must not outlive us.
  if (!stopping_) {
    stopping_ = true;
    for (size_t i = 0; i < started_workers_; i++) workers_[i]->stop();
  }
  for (size_t i = 0; i < started_workers_; i++) workers_[i]->join();
}

int Server::listen(const std::string& host, std::string& bound_host, uint32_t& bound_port) {
  listener_.data = this;
  bool opened = false;
  int rc = threaded() ? listen_tcp_fd(loop_, &listener_, host, settings_.port, opened, listen_fd_, bound_host, port_)
                      : listen_tcp(loop_, &listener_, host, settings_.port, on_connection, opened, bound_host, port_);
  if (opened) {
    handles_open_++;
    listening_ = true;
  }
  if (rc == 0 && threaded()) {
    rc = uv_poll_init_socket(loop_, &poll_, listen_fd_);
    if (rc == 0) {
      poll_.data = this;
      handles_open_++;
      polling_ = true;
      rc = uv_poll_start(&poll_, UV_READABLE, on_acceptable);
    }
    if (rc == 0) rc = uv_async_init(loop_, &stopped_async_, [](uv_async_t* a) { static_cast<Server*>(a->data)->maybe_done(); });
    if (rc == 0) {
      stopped_async_.data = this;
      stopped_async_open_ = true;
      handles_open_++;
      uv_unref(reinterpret_cast<uv_handle_t*>(&stopped_async_));
    }
    for (size_t i = 0; rc == 0 && i < workers_.size(); i++) {
      rc = workers_[i]->start();
      if (rc == 0) started_workers_++;
    }
  }
  if (rc != 0) {
    stopping_ = true;
    close_listener();
    for (size_t i = 0; i < started_workers_; i++) workers_[i]->stop();
    return rc;
  }
  if (!threaded()) started_workers_ = 1;
  bound_port = port_;
  return 0;
}

bool Server::admit_connection() {
  if (curr_.fetch_add(1, std::memory_order_relaxed) >= settings_.max_connections) {
    curr_.fetch_sub(1, std::memory_order_relaxed);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  total_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

ConnectionCounters Server::counters() const {
  ConnectionCounters c;
  c.curr = curr_.load(std::memory_order_relaxed);
  c.total = total_.load(std::memory_order_relaxed);
  c.rejected = rejected_.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    c.bytes_read += w->counters().bytes_read.load(std::memory_order_relaxed);
    c.bytes_written += w->counters().bytes_written.load(std::memory_order_relaxed);
    c.conn_yields += w->counters().conn_yields.load(std::memory_order_relaxed);
  }
  return c;
}

void Server::reset_counters() {
  total_ = 0;
  rejected_ = 0;
  for (auto& w : workers_) w->reset_counters();
}

std::vector<ConnectionInfo> Server::describe_connections() {
  std::vector<ConnectionInfo> out;
  for (auto& w : workers_) w->describe(out);
  return out;
}

void Server::acknowledged() {
  // Once stopping, a worker's mailbox may be closed; its connections flush what they hold anyway.
  if (stopping_) return;
  for (size_t i = 0; i < started_workers_; i++) workers_[i]->acknowledged();
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* s = static_cast<Server*>(listener->data);
  if (status != 0 || s->stopping_) return;
  Worker& w = *s->workers_[0];
  auto* c = new Connection(w, s->next_connection_id());
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(c->handle()));
  w.serve(c, rc == 0);
}

void Server::on_acceptable(uv_poll_t* p, int status, int) {
  auto* s = static_cast<Server*>(p->data);
  if (status != 0 || s->stopping_) return;
  for (int i = 0; i < kAcceptBatch; i++) {
    int fd = accept4(s->listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) s->pause_accepting();
      return;  // EAGAIN: nothing more to take
    }
    s->workers_[s->next_worker_++ % s->workers_.size()]->adopt(fd);
  }
}

void Server::pause_accepting() {
  log_line("warn", std::string("accepting paused for ") + std::to_string(kAcceptPauseMs) + " ms: " + strerror(errno));
  uv_poll_stop(&poll_);
  if (!pause_open_) {
    uv_timer_init(loop_, &accept_pause_);
    accept_pause_.data = this;
    pause_open_ = true;
    handles_open_++;
  }
  uv_timer_start(&accept_pause_, [](uv_timer_t* t) {
    auto* s = static_cast<Server*>(t->data);
    if (!s->stopping_) uv_poll_start(&s->poll_, UV_READABLE, on_acceptable);
  }, kAcceptPauseMs, 0);
}

void Server::worker_stopped() {
  if (!threaded()) {
    stopped_workers_ = 1;
    return maybe_done();
  }
  stopped_workers_.fetch_add(1);
  uv_async_send(&stopped_async_);
}

void Server::stop(std::function<void()> done) {
  done_ = std::move(done);
  if (!stopping_) {
    stopping_ = true;
    close_listener();
    for (size_t i = 0; i < started_workers_; i++) workers_[i]->stop();
  }
  maybe_done();
}

void Server::close_handle(uv_handle_t* h) {
  h->data = this;
  uv_close(h, [](uv_handle_t* closed) {
    auto* s = static_cast<Server*>(closed->data);
    s->handles_open_--;
    s->maybe_done();
  });
}

void Server::close_listener() {
  if (polling_) close_handle(reinterpret_cast<uv_handle_t*>(&poll_));
  if (pause_open_) close_handle(reinterpret_cast<uv_handle_t*>(&accept_pause_));
  if (listening_) close_handle(reinterpret_cast<uv_handle_t*>(&listener_));
  polling_ = pause_open_ = listening_ = false;
}

void Server::maybe_done() {
  if (!stopping_ || !done_ || stopped_workers_.load() < started_workers_) return;
  if (!joined_) {
    joined_ = true;
    for (size_t i = 0; i < started_workers_; i++) workers_[i]->join();
    if (stopped_async_open_) {
      stopped_async_open_ = false;
      close_handle(reinterpret_cast<uv_handle_t*>(&stopped_async_));
    }
  }
  if (handles_open_ != 0) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done();
}

}  // namespace mcha

#include "engine/net/worker.h"

#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "common/net_address.h"
#include "engine/net/connection.h"
#include "engine/net/limits.h"
#include "engine/net/server.h"
#include "engine/net/sync_gate.h"

namespace mcha {

Worker::Worker(Server& server, uv_loop_t* node_loop, bool threaded)
    : server_(server), threaded_(threaded), loop_(threaded ? &own_loop_ : node_loop) {}

Worker::~Worker() = default;

const Settings& Worker::settings() const { return server_.settings(); }
Store& Worker::store() { return server_.store(); }
Commands& Worker::commands() { return server_.commands(); }
std::mutex& Worker::store_lock() { return server_.store_lock(); }
SyncGate* Worker::gate() { return server_.gate(); }

int Worker::start() {
  int rc = uv_loop_init(&own_loop_);
  if (rc != 0) return rc;
  rc = uv_async_init(&own_loop_, &mail_, on_mail);
  if (rc != 0) {
    uv_loop_close(&own_loop_);
    return rc;
  }
  mail_.data = this;
  handles_open_ = 1;
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return 0;
}

void Worker::run() {
  uv_run(&own_loop_, UV_RUN_DEFAULT);
  server_.worker_stopped();
}

void Worker::join() {
  if (!running_) return;
  running_ = false;
  thread_.join();
  uv_loop_close(&own_loop_);
}

void Worker::adopt(int fd) {
  {
    std::lock_guard<std::mutex> g(mail_lock_);
    arriving_.push_back(fd);
  }
  uv_async_send(&mail_);
}

void Worker::acknowledged() {
  if (!threaded_) return release_waiting();
  {
    std::lock_guard<std::mutex> g(mail_lock_);
    acked_ = true;
  }
  uv_async_send(&mail_);
}

void Worker::stop() {
  if (!threaded_) return begin_stop();
  {
    std::lock_guard<std::mutex> g(mail_lock_);
    stop_requested_ = true;
  }
  uv_async_send(&mail_);
}

void Worker::on_mail(uv_async_t* a) {
  auto* w = static_cast<Worker*>(a->data);
  std::vector<int> fds;
  bool acked, stop;
  {
    std::lock_guard<std::mutex> g(w->mail_lock_);
    fds.swap(w->arriving_);
    acked = w->acked_;
    stop = w->stop_requested_;
    w->acked_ = false;
  }
  for (int fd : fds) {
    if (w->stopping_) {
      ::close(fd);
      continue;
    }
    auto* c = new Connection(*w, w->server_.next_connection_id());
    int rc = uv_tcp_open(c->handle(), fd);
    if (rc != 0) ::close(fd);
    w->serve(c, rc == 0);
  }
  if (acked) w->release_waiting();
  if (stop && !w->stopping_) w->begin_stop();
}

void Worker::release_waiting() {
  // release() may forget the connection: walk a copy.
  std::set<Connection*> waiting = waiting_;
  for (Connection* c : waiting) c->release(gate()->acknowledged());
}

void Worker::serve(Connection* c, bool opened) {
  bool admitted = opened && server_.admit_connection();
  std::string addr = admitted ? "tcp:" + peer_address(c->handle()) : std::string();
  {
    // Published under the lock that `stats conns` reads them under.
    std::lock_guard<std::mutex> g(open_lock_);
    if (admitted) c->publish(std::move(addr));
    open_.insert(c);
  }
  if (!opened) return c->close_after_flush();
  const Settings& s = settings();
  if (!admitted) {
    if (s.log_level() >= 1) log_line("info", "refused a connection: -c " + std::to_string(s.max_connections) + " reached");
    static char kTooMany[] = "ERROR Too many open connections\r\n";
    auto* req = new uv_write_t;
    uv_buf_t buf = uv_buf_init(kTooMany, sizeof(kTooMany) - 1);
    if (uv_write(req, reinterpret_cast<uv_stream_t*>(c->handle()), &buf, 1, [](uv_write_t* r, int) { delete r; }) != 0) delete req;
    return c->close_after_flush();
  }
  if (s.log_level() >= 2) log_line("debug", "<" + std::to_string(c->id()) + " new client connection from " + peer_address(c->handle()));
  c->start();
}

void Worker::describe(std::vector<ConnectionInfo>& out) {
  std::lock_guard<std::mutex> g(open_lock_);
  for (Connection* c : open_) {
    if (c->counted) out.push_back(c->describe());
  }
}

void Worker::connection_closed(Connection* c) {
  if (c->counted) {
    server_.connection_ended();
    if (settings().log_level() >= 2) log_line("debug", "<" + std::to_string(c->id()) + " connection closed");
  }
  {
    std::lock_guard<std::mutex> g(open_lock_);
    open_.erase(c);
  }
  waiting_.erase(c);
  resuming_.erase(std::remove(resuming_.begin(), resuming_.end(), c), resuming_.end());
  delete c;
  maybe_stopped();
}

void Worker::resume_later(Connection* c) {
  if (!resume_idle_open_) {
    uv_idle_init(loop_, &resume_idle_);
    resume_idle_.data = this;
    resume_idle_open_ = true;
    handles_open_++;
    // The connection's own handle keeps the loop alive; this one never does by itself.
    uv_unref(reinterpret_cast<uv_handle_t*>(&resume_idle_));
  }
  if (resuming_.empty()) uv_idle_start(&resume_idle_, on_resume);
  resuming_.push_back(c);
}

void Worker::on_resume(uv_idle_t* h) {
  auto* w = static_cast<Worker*>(h->data);
  // A connection that yields again is queued for the iteration after this one.
  std::vector<Connection*> turn;
  turn.swap(w->resuming_);
  for (Connection* c : turn) c->resume();
  if (w->resuming_.empty()) uv_idle_stop(&w->resume_idle_);
}

void Worker::begin_stop() {
  stopping_ = true;
  std::set<Connection*> snapshot = open_;
  for (Connection* c : snapshot) c->close_after_flush();
  uv_timer_init(loop_, &stop_timer_);
  stop_timer_.data = this;
  stop_timer_open_ = true;
  handles_open_++;
  uv_timer_start(&stop_timer_, [](uv_timer_t* t) {
    auto* w = static_cast<Worker*>(t->data);
    std::set<Connection*> left = w->open_;
    for (Connection* c : left) c->close_now();
  }, kStopGraceMs, 0);
  // On Node's loop the grace period must not keep the process alive by itself.
  if (!threaded_) uv_unref(reinterpret_cast<uv_handle_t*>(&stop_timer_));
  maybe_stopped();
}

void Worker::maybe_stopped() {
  if (!stopping_ || stopped_ || !open_.empty()) return;
  stopped_ = true;
  auto closed = [](uv_handle_t* h) {
    auto* w = static_cast<Worker*>(h->data);
    // A thread's loop ends once its last handle is closed, and run() reports it; on Node's
    // loop the report is made here.
    if (--w->handles_open_ == 0 && !w->threaded_) w->server_.worker_stopped();
  };
  if (stop_timer_open_) uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), closed);
  if (resume_idle_open_) uv_close(reinterpret_cast<uv_handle_t*>(&resume_idle_), closed);
  if (threaded_) uv_close(reinterpret_cast<uv_handle_t*>(&mail_), closed);
}

}  // namespace mcha

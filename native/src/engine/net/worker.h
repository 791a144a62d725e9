// One event loop serving client connections. With -t 1 it is Node's own loop and the listener
// hands it each accepted connection directly; with -t N (N >= 2) there are N of them, each a
// libuv loop on a thread of its own, and the listener on Node's loop passes them accepted
// descriptors round-robin, as memcached's dispatch_conn_new does. A worker owns its
// connections outright: only its own thread touches them, and the rest of the node reaches
// it through its mailbox (descriptors, the sync gate moving, stop), under one small lock.
#pragma once
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "engine/commands/counters.h"

namespace mcha {

class Connection;
class Server;
class Commands;
class Store;
class SyncGate;
struct Settings;

// What a worker's connections count for `stats`: written by its thread, summed by whoever asks.
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> bytes_read{0}, bytes_written{0};
  // Times a connection stopped at -R's commands per event (memcached's conn_yields).
  std::atomic<uint64_t> conn_yields{0};
};

class Worker {
 public:
  // `threaded`: a loop and thread of its own (start() makes them); else Node's loop.
  Worker(Server& server, uv_loop_t* node_loop, bool threaded);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Threaded: creates the loop and starts the thread; returns 0 or a libuv error code.
  int start();
  // Takes over a connection the listener accepted (any thread; threaded workers only).
  void adopt(int fd);
  // A new connection on this worker's loop (`opened`: its descriptor is in the handle): counts
  // and starts it, or refuses it past -c. On this worker's thread.
  void serve(Connection* c, bool opened);
  // The sync gate moved on: waiting connections send what may go (any thread).
  void acknowledged();
  // Lets composed replies go out and closes every connection, then ends the thread; the
  // server's `worker_stopped` runs on Node's loop once it has (any thread).
  void stop();
  // Waits for a stopped thread to end and frees its loop (Node's thread).
  void join();
  // `stats conns` (any thread).
  void describe(std::vector<ConnectionInfo>& out);
  const WorkerCounters& counters() const { return counters_; }
  void reset_counters() {
    counters_.bytes_read = 0;
    counters_.bytes_written = 0;
    counters_.conn_yields = 0;
  }

  // For its connections, on its thread.
  uv_loop_t* loop() { return loop_; }
  const Settings& settings() const;
  Store& store();
  Commands& commands();
  // Held while a connection's commands run; never across a system call.
  std::mutex& store_lock();
  SyncGate* gate();
  WorkerCounters& io() { return counters_; }
  void wait_for_ack(Connection* c) { waiting_.insert(c); }
  void forget(Connection* c) { waiting_.erase(c); }
  void connection_closed(Connection* c);
  // A connection that stopped at -R with commands still buffered: it goes on once the loop's
  // other connections have had their turn (the next loop iteration).
  void resume_later(Connection* c);

 private:
  static void on_mail(uv_async_t* a);
  static void on_resume(uv_idle_t* h);
  void run();
  // Sends what the sync gate now lets go, on this worker's thread.
  void release_waiting();
  void begin_stop();
  void maybe_stopped();

  Server& server_;
  bool threaded_;
  uv_loop_t own_loop_;
  uv_loop_t* loop_;
  std::thread thread_;
  bool running_ = false;
  // The mailbox, filled from other threads.
  uv_async_t mail_;
  std::mutex mail_lock_;
  std::vector<int> arriving_;
  bool acked_ = false, stop_requested_ = false;
  // Owned by this worker's thread, except open_, which `stats conns` reads under open_lock_.
  std::mutex open_lock_;
  std::set<Connection*> open_;
  std::set<Connection*> waiting_;
  WorkerCounters counters_;
  // Connections waiting for their next turn; the idle handle keeps the loop from blocking in
  // poll while there are any. Opened on the first yield.
  std::vector<Connection*> resuming_;
  uv_idle_t resume_idle_;
  bool resume_idle_open_ = false;
  uv_timer_t stop_timer_;
  bool stopping_ = false, stop_timer_open_ = false, stopped_ = false;
  int handles_open_ = 0;
};

}  // namespace mcha

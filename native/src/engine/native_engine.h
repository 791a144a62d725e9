// The native engine's parts wired together: the store, the version clock, the command layer,
// the mutation log and snapshot reader when replicated, the sync-mode gate, the client server
// and the expiry sweep. Mirrors src/engine/ts/ts-engine.ts; knows nothing of JavaScript
// (bindings/engine_binding.cc turns it into the NativeEngine class).
#pragma once
#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/auth/credentials.h"
#include "engine/commands/execute.h"
#include "engine/net/server.h"
#include "engine/net/sync_gate.h"
#include "engine/replica/mutation_log.h"
#include "engine/replica/snapshot.h"
#include "engine/settings.h"
#include "engine/store/store.h"
#include "engine/store/version_clock.h"

namespace mcha {

class NativeEngine {
 public:
  // `shutdown_request` runs for the `shutdown` command; `records_waiting` when the mutation log
  // gets its first record since the last drain.
  NativeEngine(uv_loop_t* loop, Settings settings, std::function<void(bool graceful)> shutdown_request,
               std::function<void()> records_waiting);
  ~NativeEngine();

  // Binds `host` (numeric) and listens; returns 0 or a libuv error code.
  int start(const std::string& host, std::string& bound_host, uint32_t& bound_port);
  // Stops the sweep and the server; done() once every handle is closed.
  void stop(std::function<void()> done);

  const Settings& settings() const { return settings_; }
  // A `stats` group as name/value pairs, read under the store lock while the workers serve
  // (the metrics endpoint); false for a group memcached does not know.
  bool stats(std::string_view group, std::vector<std::pair<std::string, std::string>>& out);
  // -S and -Y users, replaced at start and on every SIGHUP.
  void set_credentials(CredentialKind kind, std::vector<std::pair<std::string, std::string>> users);

  // Replication; each takes the store lock, as the workers' commands do.
  bool replicated() const { return log_ != nullptr; }
  // Bytes of this node's own writes waiting to be drained, sealed for drain_into (records
  // logged after this wait for the next drain).
  size_t pending();
  // Copies the sealed records to `target` (room for pending() bytes) and forgets them;
  // returns how many records they were.
  uint32_t drain_into(char* target);
  // Applies a batch of the peer's records: nullptr, or what was malformed.
  const char* apply(const char* records, size_t n, uint64_t now_ms);
  // A full sync's snapshot: its start (the version clock then), and its next chunk.
  uint64_t snapshot_begin();
  uint32_t snapshot_next(RecordBuffer& out, size_t max_bytes, bool& done);
  void set_replication_stats(std::string text);
  // Sync mode: the peer applied this node's stream up to `acked` (-1: no peer).
  void set_acknowledged(int64_t acked);

 private:
  static void on_sweep(uv_timer_t* t);
  // The mutation log's first record since a drain, on whichever thread wrote it.
  void records_arrived();

  uv_loop_t* loop_;
  Settings settings_;
  // The one lock over the store, the version clock, the command counters and the mutation
  // log: held by a worker while the commands of one read event run, and by Node's thread
  // while it applies, drains, snapshots or sweeps.
  std::mutex store_lock_;
  Store store_;
  VersionClock clock_;
  Credentials credentials_;
  std::unique_ptr<MutationLog> log_;
  std::unique_ptr<Snapshot> snapshot_;
  std::string replication_stats_;
  std::unique_ptr<SyncGate> gate_;
  std::unique_ptr<Commands> commands_;
  std::unique_ptr<Server> server_;
  uv_timer_t sweep_timer_;
  bool sweeping_ = false;
  std::function<void()> records_waiting_;
  // -t N: a worker thread's first record reaches Node's loop through this.
  uv_async_t records_async_;
  bool records_async_open_ = false;
};

}  // namespace mcha

// --repl-mode sync: a reply to a write leaves only once the peer has acknowledged the write's
// record. Replies of one connection stay in order, so a batch after a held one waits too. The
// gate is read by every worker; each keeps its own waiting connections (engine/net/worker.h).
// Mirrors src/engine/ts/net/sync-gate.ts.
#pragma once
#include <atomic>
#include <cstdint>

#include "engine/replica/mutation_log.h"

namespace mcha {

class SyncGate {
 public:
  explicit SyncGate(const MutationLog& log) : log_(log) {}

  // The stream offset just past this node's own records so far.
  uint64_t log_end() const { return log_.end(); }
  // Whether replies composed now, after writes up to `offset`, must wait.
  bool must_hold(uint64_t offset) const {
    int64_t acked = acknowledged();
    return acked >= 0 && offset > static_cast<uint64_t>(acked);
  }
  // How far the peer has applied this node's stream (-1: no peer, replies go at once).
  int64_t acknowledged() const { return acked_.load(std::memory_order_acquire); }
  // Set on Node's thread; the server then tells the workers (Server::acknowledged).
  void set_acknowledged(int64_t acked) { acked_.store(acked, std::memory_order_release); }

 private:
  const MutationLog& log_;
  std::atomic<int64_t> acked_{-1};
};

}  // namespace mcha

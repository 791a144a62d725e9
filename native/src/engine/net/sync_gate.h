// --repl-mode sync: a reply to a write leaves only once the peer has acknowledged the write's
// record. Replies of one connection stay in order, so a batch after a held one waits too.
// Mirrors src/engine/ts/net/sync-gate.ts.
#pragma once
#include <cstdint>
#include <set>

#include "engine/replica/mutation_log.h"

namespace mcha {

class Connection;

class SyncGate {
 public:
  explicit SyncGate(const MutationLog& log) : log_(log) {}

  // The stream offset just past this node's own records so far.
  uint64_t log_end() const { return log_.end(); }
  // Whether replies composed now, after writes up to `offset`, must wait.
  bool must_hold(uint64_t offset) const { return acked_ >= 0 && offset > static_cast<uint64_t>(acked_); }
  void wait(Connection* c) { waiting_.insert(c); }
  void forget(Connection* c) { waiting_.erase(c); }
  // The peer applied this node's stream up to `acked` (-1: no peer, replies go at once).
  void set_acknowledged(int64_t acked);

 private:
  const MutationLog& log_;
  int64_t acked_ = -1;
  std::set<Connection*> waiting_;
};

}  // namespace mcha

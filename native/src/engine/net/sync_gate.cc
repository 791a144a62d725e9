#include "engine/net/sync_gate.h"

#include "engine/net/connection.h"

namespace mcha {

void SyncGate::set_acknowledged(int64_t acked) {
  acked_ = acked;
  // release() may forget the connection: walk a copy.
  std::set<Connection*> waiting = waiting_;
  for (Connection* c : waiting) c->release(acked);
}

}  // namespace mcha

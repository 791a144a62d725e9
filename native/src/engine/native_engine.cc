#include "engine/native_engine.h"

#include "engine/replica/apply.h"
#include "engine/store/clock.h"

namespace mcha {
namespace {

constexpr uint64_t kSweepIntervalMs = 50;
// Items the expiry sweep looks at per tick: well under a millisecond of work.
constexpr size_t kSweepBudget = 2000;

}  // namespace

NativeEngine::NativeEngine(uv_loop_t* loop, Settings settings, std::function<void(bool)> shutdown_request,
                           std::function<void()> records_waiting)
    : loop_(loop),
      settings_(std::move(settings)),
      store_(settings_.max_bytes, settings_.evictions, settings_.replicated ? &settings_.tombstones : nullptr),
      log_(settings_.replicated ? std::make_unique<MutationLog>(settings_.node_id, std::move(records_waiting)) : nullptr),
      snapshot_(settings_.replicated ? std::make_unique<Snapshot>(store_, clock_, settings_.node_id) : nullptr),
      gate_(log_ && settings_.sync_mode ? std::make_unique<SyncGate>(*log_) : nullptr) {
  commands_ = std::make_unique<Commands>(CommandHost{settings_, store_, clock_, counters_, settings_.node_id, now_seconds(),
                                                     [this] { return server_->port(); },
                                                     [this] { return server_->describe_connections(); },
                                                     std::move(shutdown_request), log_.get(),
                                                     settings_.replicated ? &replication_stats_ : nullptr, &credentials_});
  server_ = std::make_unique<Server>(loop_, settings_, store_, *commands_, counters_, gate_.get());
}

NativeEngine::~NativeEngine() = default;

int NativeEngine::start(const std::string& host, std::string& bound_host, uint32_t& bound_port) {
  // The address as bound (the TypeScript side resolved a name): `stats conns` shows it.
  settings_.listen = host;
  int rc = server_->listen(host, bound_host, bound_port);
  if (rc != 0) return rc;
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_.data = this;
  sweeping_ = true;
  uv_timer_start(&sweep_timer_, on_sweep, kSweepIntervalMs, kSweepIntervalMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(&sweep_timer_));
  return 0;
}

void NativeEngine::on_sweep(uv_timer_t* t) {
  auto* e = static_cast<NativeEngine*>(t->data);
  e->store_.sweep(now_seconds(), kSweepBudget);
}

void NativeEngine::stop(std::function<void()> done) {
  // The timer's close completes in this loop turn's close phase, before the server's last one.
  if (sweeping_) uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  sweeping_ = false;
  server_->stop(std::move(done));
}

const char* NativeEngine::apply(const char* records, size_t n, uint64_t now_ms) {
  return apply_records(records, n, store_, clock_, settings_, now_ms);
}

void NativeEngine::set_acknowledged(int64_t acked) {
  if (gate_) gate_->set_acknowledged(acked);
}

}  // namespace mcha

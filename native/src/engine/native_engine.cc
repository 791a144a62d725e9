#include "engine/native_engine.h"

#include <cstring>

#include "engine/replica/apply.h"
#include "engine/store/clock.h"

namespace mcha {
namespace {

constexpr uint64_t kSweepIntervalMs = 50;
// Items the expiry sweep looks at per tick: well under a millisecond of work (and of holding
// the store lock).
constexpr size_t kSweepBudget = 2000;

}  // namespace

NativeEngine::NativeEngine(uv_loop_t* loop, Settings settings, std::function<void(bool)> shutdown_request,
                           std::function<void()> records_waiting)
    : loop_(loop),
      settings_(std::move(settings)),
      store_(settings_.max_bytes, settings_.evictions, settings_.replicated ? &settings_.tombstones : nullptr),
      log_(settings_.replicated ? std::make_unique<MutationLog>(settings_.node_id, [this] { records_arrived(); }) : nullptr),
      snapshot_(settings_.replicated ? std::make_unique<Snapshot>(store_, clock_, settings_.node_id) : nullptr),
      gate_(log_ && settings_.sync_mode ? std::make_unique<SyncGate>(*log_) : nullptr),
      records_waiting_(std::move(records_waiting)) {
  commands_ = std::make_unique<Commands>(CommandHost{settings_, store_, clock_, settings_.node_id, now_seconds(),
                                                     [this] { return server_->port(); },
                                                     [this] { return server_->describe_connections(); },
                                                     [this] { return server_->counters(); },
                                                     [this] { server_->reset_counters(); },
                                                     std::move(shutdown_request), log_.get(),
                                                     settings_.replicated ? &replication_stats_ : nullptr, &credentials_});
  server_ = std::make_unique<Server>(loop_, settings_, store_, store_lock_, *commands_, gate_.get());
}

NativeEngine::~NativeEngine() {
  // The worker threads end before the store they use goes.
  server_.reset();
}

int NativeEngine::start(const std::string& host, std::string& bound_host, uint32_t& bound_port) {
  // The address as bound (the TypeScript side resolved a name): `stats conns` shows it.
  settings_.listen = host;
  if (log_ && server_->threaded()) {
    int rc = uv_async_init(loop_, &records_async_, [](uv_async_t* a) { static_cast<NativeEngine*>(a->data)->records_waiting_(); });
    if (rc != 0) return rc;
    records_async_.data = this;
    records_async_open_ = true;
    uv_unref(reinterpret_cast<uv_handle_t*>(&records_async_));
  }
  int rc = server_->listen(host, bound_host, bound_port);
  if (rc != 0) return rc;
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_.data = this;
  sweeping_ = true;
  uv_timer_start(&sweep_timer_, on_sweep, kSweepIntervalMs, kSweepIntervalMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(&sweep_timer_));
  return 0;
}

void NativeEngine::records_arrived() {
  // On Node's loop the notifier is armed directly; a worker thread wakes Node's loop, once per
  // drain at most (the log calls this for its first record only).
  if (records_async_open_) uv_async_send(&records_async_);
  else records_waiting_();
}

void NativeEngine::on_sweep(uv_timer_t* t) {
  auto* e = static_cast<NativeEngine*>(t->data);
  std::lock_guard<std::mutex> g(e->store_lock_);
  e->store_.sweep(now_seconds(), kSweepBudget);
}

void NativeEngine::stop(std::function<void()> done) {
  // The timer's close completes in this loop turn's close phase, before the server's last one.
  if (sweeping_) uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  sweeping_ = false;
  server_->stop([this, done = std::move(done)]() {
    // The threads have ended: nothing can send on the async handle any more.
    if (records_async_open_) {
      records_async_open_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&records_async_), nullptr);
    }
    done();
  });
}

void NativeEngine::set_credentials(CredentialKind kind, std::vector<std::pair<std::string, std::string>> users) {
  std::lock_guard<std::mutex> g(store_lock_);
  credentials_.set(kind, std::move(users));
}

size_t NativeEngine::pending() {
  std::lock_guard<std::mutex> g(store_lock_);
  return log_ ? log_->seal() : 0;
}

uint32_t NativeEngine::drain_into(char* target) {
  std::lock_guard<std::mutex> g(store_lock_);
  size_t n = log_->seal();
  uint32_t records = log_->sealed_records();
  if (n) memcpy(target, log_->sealed_data(), n);
  log_->drained();
  return records;
}

const char* NativeEngine::apply(const char* records, size_t n, uint64_t now_ms) {
  std::lock_guard<std::mutex> g(store_lock_);
  return apply_records(records, n, store_, clock_, settings_, now_ms);
}

uint64_t NativeEngine::snapshot_begin() {
  std::lock_guard<std::mutex> g(store_lock_);
  return snapshot_->begin();
}

uint32_t NativeEngine::snapshot_next(RecordBuffer& out, size_t max_bytes, bool& done) {
  std::lock_guard<std::mutex> g(store_lock_);
  return snapshot_->next(out, max_bytes, done);
}

bool NativeEngine::stats(std::string_view group, std::vector<std::pair<std::string, std::string>>& out) {
  std::lock_guard<std::mutex> g(store_lock_);
  return commands_->stat_group(group, [&out](std::string_view name, std::string_view value) { out.emplace_back(name, value); });
}

void NativeEngine::set_replication_stats(std::string text) {
  std::lock_guard<std::mutex> g(store_lock_);
  replication_stats_ = std::move(text);
}

void NativeEngine::set_acknowledged(int64_t acked) {
  if (!gate_) return;
  gate_->set_acknowledged(acked);
  server_->acknowledged();
}

}  // namespace mcha

#include "common/loop_notifier.h"

namespace mcha {

LoopNotifier::LoopNotifier(uv_loop_t* loop, std::function<void()> run) : run_(std::move(run)) {
  uv_check_init(loop, &check_);
  check_.data = this;
  uv_check_start(&check_, on_check);
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  uv_idle_init(loop, &idle_);
  idle_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&idle_));
}

void LoopNotifier::arm() {
  armed_ = true;
  if (!idling_ && !destroyed_) {
    idling_ = true;
    uv_idle_start(&idle_, [](uv_idle_t*) {});
  }
}

void LoopNotifier::on_check(uv_check_t* h) {
  auto* n = static_cast<LoopNotifier*>(h->data);
  if (!n->armed_ || n->destroyed_) return;
  n->armed_ = false;
  n->run_();
  // run_ may have armed it again, or destroyed it (it is freed only once the handles close).
  if (!n->armed_ && n->idling_ && !n->destroyed_) {
    n->idling_ = false;
    uv_idle_stop(&n->idle_);
  }
}

void LoopNotifier::destroy(std::function<void()> closed) {
  if (destroyed_) return;
  destroyed_ = true;
  closed_ = std::move(closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_closed);
}

void LoopNotifier::on_closed(uv_handle_t* h) {
  auto* n = static_cast<LoopNotifier*>(h->data);
  if (--n->open_ > 0) return;
  auto closed = std::move(n->closed_);
  delete n;
  if (closed) closed();
}

}  // namespace mcha

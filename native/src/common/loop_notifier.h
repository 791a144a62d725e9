// Runs a callback once per loop turn while armed, after that turn's I/O (a uv_check handle):
// how both C++ data paths batch their work and their notifications to JavaScript. Arming also
// keeps the next poll from blocking (an idle handle), so work armed outside the poll phase (a
// timer, a JavaScript call) is not held up until the next I/O. Neither costs a system call,
// which a thread-safe function or an async handle would (an eventfd write per notification).
#pragma once
#include <uv.h>

#include <functional>

namespace mcha {

class LoopNotifier {
 public:
  LoopNotifier(uv_loop_t* loop, std::function<void()> run);
  LoopNotifier(const LoopNotifier&) = delete;
  LoopNotifier& operator=(const LoopNotifier&) = delete;

  // The callback runs at the end of this loop turn (or the next, if this one's check is past).
  void arm();
  // Closes the handles and frees the notifier once libuv is done with them; `closed` runs then.
  void destroy(std::function<void()> closed = nullptr);

 private:
  ~LoopNotifier() = default;
  static void on_check(uv_check_t* h);
  static void on_closed(uv_handle_t* h);

  std::function<void()> run_;
  std::function<void()> closed_;
  uv_check_t check_;
  uv_idle_t idle_;
  bool armed_ = false;
  bool idling_ = false;
  bool destroyed_ = false;
  int open_ = 2;
};

}  // namespace mcha

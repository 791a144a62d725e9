#include "proxy/backend_connection.h"

#include <cstring>

namespace mcha {

BackendConnection::BackendConnection(uv_loop_t* loop, size_t max_value, size_t max_unsent, Callbacks cb)
    : max_value_(max_value), max_unsent_(max_unsent), cb_(std::move(cb)) {
  uv_tcp_init(loop, &handle_);
  handle_.data = this;
  uv_check_init(loop, &check_);
  check_.data = this;
  open_handles_ = 2;
}

BackendConnection* BackendConnection::open(uv_loop_t* loop, const sockaddr* addr, size_t max_value, size_t max_unsent, Callbacks cb) {
  auto* c = new BackendConnection(loop, max_value, max_unsent, std::move(cb));
  c->connect_req_.data = c;
  int rc = uv_tcp_connect(&c->connect_req_, &c->handle_, addr, on_connect);
  if (rc != 0) c->close(uv_err_name(rc));
  return c;
}

bool BackendConnection::send(const char* p, size_t n, const BackendRequest& r) {
  if (closing_ || out_.size() + inflight_.size() + n > max_unsent_) return false;
  out_.append(p, n);
  pending_.push_back(r);
  // Everything queued during this loop turn leaves in one write, after the turn's reads.
  uv_check_start(&check_, on_check);
  return true;
}

void BackendConnection::close(const char* why, CloseReason reason) {
  if (closing_) return;
  closing_ = true;
  why_ = why;
  reason_ = reason;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), on_closed);
}

void BackendConnection::on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<BackendConnection*>(req->data);
  if (c->closing_) return;
  if (status < 0) return c->close(uv_err_name(status));
  c->connected_ = true;
  uv_tcp_nodelay(&c->handle_, 1);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle_), on_alloc, on_read) != 0) return c->close("read failed");
  c->kick_write();
}

void BackendConnection::on_check(uv_check_t* h) {
  auto* c = static_cast<BackendConnection*>(h->data);
  uv_check_stop(h);
  c->kick_write();
}

void BackendConnection::kick_write() {
  if (!connected_ || writing_ || out_.empty() || closing_) return;
  uv_buf_t b = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&handle_), &b, 1);
  if (n < 0 && n != UV_EAGAIN) return close(uv_err_name(n));
  size_t done = n > 0 ? static_cast<size_t>(n) : 0;
  if (done == out_.size()) {
    out_.clear();
    return;
  }
  inflight_.assign(out_, done, std::string::npos);
  out_.clear();
  b = uv_buf_init(inflight_.data(), static_cast<unsigned>(inflight_.size()));
  write_req_.data = this;
  writing_ = true;
  if (uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&handle_), &b, 1, on_write) != 0) {
    writing_ = false;
    close("write failed");
  }
}

void BackendConnection::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<BackendConnection*>(req->data);
  c->writing_ = false;
  c->inflight_.clear();
  if (c->closing_) return;
  if (status < 0) return c->close(uv_err_name(status));
  c->kick_write();
}

void BackendConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<BackendConnection*>(h->data);
  buf->base = c->read_buf_;
  buf->len = sizeof(c->read_buf_);
}

void BackendConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<BackendConnection*>(s->data);
  if (c->closing_) return;
  if (nread < 0) return c->close(nread == UV_EOF ? "closed by the node" : uv_err_name(static_cast<int>(nread)));
  if (nread == 0) return;
  if (c->in_off_ == c->in_.size()) {
    c->in_.clear();
    c->in_off_ = 0;
  }
  c->in_.append(buf->base, static_cast<size_t>(nread));
  c->consume();
}

void BackendConnection::consume() {
  while (!closing_ && !pending_.empty()) {
    long len = frame_reply(in_.data() + in_off_, in_.size() - in_off_, pending_.front().shape, max_value_, scan_);
    if (len < 0) return close("reply out of step");
    if (len == 0) break;
    BackendRequest r = pending_.front();
    pending_.pop_front();
    size_t at = in_off_;
    in_off_ += static_cast<size_t>(len);
    cb_.reply(this, r, in_.data() + at, static_cast<size_t>(len));
  }
  if (closing_) return;
  if (pending_.empty() && in_off_ < in_.size()) return close("a reply nobody asked for");
  // Keeps the unread tail only: a reply that spans reads is copied once more at most.
  if (in_off_ > sizeof(read_buf_)) {
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
}

void BackendConnection::on_closed(uv_handle_t* h) {
  auto* c = static_cast<BackendConnection*>(h->data);
  if (--c->open_handles_ > 0) return;
  std::vector<BackendRequest> waiting(c->pending_.begin(), c->pending_.end());
  c->pending_.clear();
  if (c->cb_.failed) c->cb_.failed(c, std::move(waiting), c->why_.c_str(), c->reason_);
  delete c;
}

}  // namespace mcha

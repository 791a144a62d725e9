#include "engine/net/connection.h"

#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/net_address.h"
#include "engine/net/limits.h"
#include "engine/net/server.h"
#include "engine/store/clock.h"
#include "protocol/line_limits.h"

namespace mcha {

Connection::Connection(Server& server, uint64_t id) : server_(server), id_(id), out_(server.store()), last_command_at_(now_seconds()) {
  uv_tcp_init(server.loop(), &handle_);
  handle_.data = this;
  handles_open_ = 1;
}

Connection::~Connection() {
  free(rbuf_);
  if (item_) server_.store().release(item_);
}

void Connection::start() {
  uv_tcp_nodelay(&handle_, 1);
  reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), on_alloc, on_read) == 0;
  if (!reading_) close_now();
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  if (c->rpos_ > 0 && c->rpos_ == c->rlen_) c->rpos_ = c->rlen_ = 0;
  if (c->rcap_ - c->rlen_ < kReadChunk) {
    if (c->rpos_ > 0) {
      memmove(c->rbuf_, c->rbuf_ + c->rpos_, c->rlen_ - c->rpos_);
      c->rlen_ -= c->rpos_;
      c->rpos_ = 0;
    }
    if (c->rcap_ - c->rlen_ < kReadChunk) {
      size_t cap = c->rcap_ ? c->rcap_ * 2 : kReadChunk;
      while (cap - c->rlen_ < kReadChunk) cap *= 2;
      char* bigger = static_cast<char*>(realloc(c->rbuf_, cap));
      if (!bigger) {
        *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS
        return;
      }
      c->rbuf_ = bigger;
      c->rcap_ = cap;
    }
  }
  *buf = uv_buf_init(c->rbuf_ + c->rlen_, static_cast<unsigned int>(c->rcap_ - c->rlen_));
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* c = static_cast<Connection*>(s->data);
  if (nread < 0) {
    // EOF or an error: replies already composed still go out, as with a half-closed socket.
    return c->close_after_flush();
  }
  if (nread == 0 || c->closing_) return;
  c->server_.counters().bytes_read += static_cast<uint64_t>(nread);
  c->rlen_ += static_cast<size_t>(nread);
  c->process();
}

// memcached transmits after every get and mn, and after the 21st, 41st... command of one read
// event (reqs_per_event); what it has not transmitted, an HTTP line or a get with an over-long
// key throws away. Marking the same points makes the replies match byte for byte.
void Connection::completed(bool transmits) {
  completions_++;
  if (transmits || (completions_ > 1 && completions_ % 20 == 1)) out_.mark();
}

ConnectionInfo Connection::describe() {
  const char* state = processing_ ? "conn_parse_cmd" : waiting_for_drain_ ? "conn_mwrite"
                      : state_ == State::Data ? "conn_nread" : state_ == State::Swallow ? "conn_swallow" : "conn_waiting";
  return ConnectionInfo{id_, "tcp:" + peer_address(&handle_), state, last_command_at_};
}

void Connection::process() {
  if (SyncGate* gate = server_.gate()) seen_log_end_ = gate->log_end();
  processing_ = true;
  last_command_at_ = now_seconds();
  process_buffer();
  processing_ = false;
}

void Connection::process_buffer() {
  completions_ = 0;
  Commands& commands = server_.commands();
  while (rpos_ < rlen_ && !closing_) {
    size_t avail = rlen_ - rpos_;
    if (state_ == State::Swallow) {
      size_t n = swallow_ < avail ? swallow_ : avail;
      rpos_ += n;
      swallow_ -= n;
      if (swallow_ == 0) {
        state_ = State::Line;
        completed(false);
      }
      continue;
    }
    if (state_ == State::Data) {
      size_t block = static_cast<size_t>(item_->nvalue) + 2;
      while (filled_ < block && rpos_ < rlen_) {
        if (filled_ < item_->nvalue) {
          size_t run = item_->nvalue - filled_;
          if (run > rlen_ - rpos_) run = rlen_ - rpos_;
          memcpy(item_->value() + filled_, rbuf_ + rpos_, run);
          filled_ += run;
          rpos_ += run;
        } else {
          trailer_[filled_++ - item_->nvalue] = rbuf_[rpos_++];
        }
      }
      if (filled_ < block) break;
      state_ = State::Line;
      Item* it = item_;
      item_ = nullptr;
      bool terminated = trailer_[0] == '\r' && trailer_[1] == '\n';
      if (req_.kind == Kind::MetaSet) commands.complete_meta_set(req_, it, terminated, out_);
      else commands.complete_store(req_, it, terminated, out_);
      completed(false);
    } else {
      const char* start = rbuf_ + rpos_;
      const char* nl = static_cast<const char*>(memchr(start, '\n', avail));
      if (!nl) {
        if (!line_may_grow(server_.settings().lines, start, avail)) return close_after_flush();
        break;
      }
      size_t len = static_cast<size_t>(nl - start);
      if (len > server_.settings().lines.max_complete_line && !is_get_line(start, len)) return close_after_flush();
      size_t line_len = len > 1 && start[len - 1] == '\r' ? len - 1 : len;
      if (server_.settings().verbosity >= 2) log_line("debug", "<" + std::to_string(id_) + " " + printable(start, line_len));
      parse_request(start, line_len, req_);
      if (req_.kind == Kind::Store || req_.kind == Kind::MetaSet) {
        bool meta = req_.kind == Kind::MetaSet;
        if (meta) {
          // ms answers with its flags (opaque, k...) once the block is in, and the read buffer
          // may have moved by then: the request is re-read from a copy of its line.
          meta_line_.assign(start, line_len);
          parse_request(meta_line_.data(), meta_line_.size(), req_);
        }
        // The key is copied into the item before the read buffer moves on.
        const char* refusal = meta ? commands.admit_meta_set(req_, &item_) : commands.admit_store(req_, &item_);
        rpos_ += len + 1;
        if (refusal) {
          // Meta errors are never quiet.
          if (meta || !req_.noreply) out_.line(refusal);
          state_ = State::Swallow;
          swallow_ = static_cast<size_t>(req_.bytes) + 2;
        } else {
          state_ = State::Data;
          filled_ = 0;
        }
        continue;
      }
      Outcome outcome = commands.execute(req_, out_);
      rpos_ += len + 1;
      if (outcome == Outcome::Close) return close_after_flush();
      completed((req_.kind == Kind::Get && !req_.bad_key) || req_.kind == Kind::Mn);
    }
    if (out_.pending() >= server_.settings().output_flush_at) flush();
    if (unsent() >= server_.settings().output_high_water) {
      waiting_for_drain_ = true;
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
      reading_ = false;
      break;
    }
  }
  // memcached transmits when it needs more of a command line (not while it waits for a data
  // block): then its replies release their items.
  if (state_ == State::Line) out_.mark();
  flush();
}

void Connection::flush() {
  if (out_.pending() == 0 || closed_) return;
  WriteBatch* b = out_.take();
  server_.counters().bytes_written += b->bytes;
  if (SyncGate* gate = server_.gate()) {
    uint64_t end = gate->log_end();
    uint64_t offset = end != seen_log_end_ ? end : 0;
    seen_log_end_ = end;
    if (!held_.empty() || gate->must_hold(offset)) {
      held_.push_back(Held{b, offset});
      held_bytes_ += b->bytes;
      gate->wait(this);
      return;
    }
  }
  send(b);
}

void Connection::release(int64_t acked) {
  while (!held_.empty() && (acked < 0 || held_.front().offset <= static_cast<uint64_t>(acked))) {
    WriteBatch* b = held_.front().batch;
    held_.pop_front();
    held_bytes_ -= b->bytes;
    send(b);  // close_now() empties held_: a closed connection has nothing left here
  }
  if (!held_.empty()) return;
  if (SyncGate* gate = server_.gate()) gate->forget(this);
  if (shutdown_pending_) begin_shutdown();
}

void Connection::send(WriteBatch* b) {
  b->req.data = this;
  int rc = uv_write(&b->req, reinterpret_cast<uv_stream_t*>(&handle_), b->bufs.data(), static_cast<unsigned int>(b->bufs.size()), on_write);
  if (rc != 0) {
    out_.finish(b);
    close_now();
  }
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* b = reinterpret_cast<WriteBatch*>(req);
  auto* c = static_cast<Connection*>(req->data);
  c->out_.finish(b);
  if (status != 0) return c->close_now();
  if (c->waiting_for_drain_ && !c->closing_ && c->unsent() < c->server_.settings().output_high_water / 2) {
    c->waiting_for_drain_ = false;
    c->reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle_), on_alloc, on_read) == 0;
    c->process();
  }
}

void Connection::close_after_flush() {
  if (closing_) return;
  closing_ = true;
  flush();
  if (reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
  reading_ = false;
  // Sync mode: replies still waiting for the peer go out before the connection ends.
  if (!held_.empty()) {
    shutdown_pending_ = true;
    return;
  }
  begin_shutdown();
}

void Connection::begin_shutdown() {
  shutdown_pending_ = false;
  if (closed_) return;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&handle_), on_shutdown) != 0) return close_now();
  uv_timer_init(server_.loop(), &linger_);
  linger_.data = this;
  linger_started_ = true;
  handles_open_++;
  uv_timer_start(&linger_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->close_now(); }, kCloseLingerMs, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&linger_));
}

void Connection::on_shutdown(uv_shutdown_t* req, int) { static_cast<Connection*>(req->data)->close_now(); }

void Connection::close_now() {
  if (closed_) return;
  closed_ = closing_ = true;
  for (Held& h : held_) out_.finish(h.batch);
  held_.clear();
  held_bytes_ = 0;
  if (SyncGate* gate = server_.gate()) gate->forget(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_close);
  if (linger_started_) uv_close(reinterpret_cast<uv_handle_t*>(&linger_), on_close);
}

void Connection::on_close(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->handles_open_ == 0) c->server_.connection_closed(c);
}

}  // namespace mcha

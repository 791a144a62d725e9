#include "engine/net/connection.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "engine/net/limits.h"
#include "engine/net/sync_gate.h"
#include "engine/net/worker.h"
#include "engine/store/clock.h"
#include "protocol/line_limits.h"

namespace mcha {

Connection::Connection(Worker& worker, uint64_t id)
    : worker_(worker), id_(id), out_(worker.store()), last_command_at_(now_seconds()), store_held_(worker.store_lock(), std::defer_lock) {
  uv_tcp_init(worker.loop(), &handle_);
  handle_.data = this;
  handles_open_ = 1;
}

Connection::~Connection() {
  free(rbuf_);
  if (item_) worker_.store().release(item_);
}

void Connection::start() {
  // -B: a connection speaks what it was told, else what its first byte says.
  switch (worker_.settings().protocol) {
    case BindingProtocol::Ascii: protocol_ = Protocol::Text; break;
    case BindingProtocol::Binary: protocol_ = Protocol::Binary; break;
    case BindingProtocol::Auto: break;
  }
  if (protocol_ != Protocol::Unknown) state_ = idle_state();
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
    // Commands still waiting for their turn run first, as memcached reads the end only then.
    if (c->resume_queued_) {
      c->end_of_input_ = true;
      c->stop_reading();
      return;
    }
    return c->close_after_flush();
  }
  if (nread == 0 || c->closing_) return;
  c->worker_.io().bytes_read.fetch_add(static_cast<uint64_t>(nread), std::memory_order_relaxed);
  c->rlen_ += static_cast<size_t>(nread);
  if (c->resume_queued_) {
    if (c->rlen_ - c->rpos_ > kReadChunk) c->stop_reading();
    return;
  }
  c->process();
}

void Connection::resume() {
  resume_queued_ = false;
  // Each of these goes on from its own callback.
  if (closing_ || waiting_for_drain_ || auth_delayed_) return;
  process();
  if (!resume_queued_ && !reading_ && !closing_ && !waiting_for_drain_ && !auth_delayed_) {
    reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(&handle_), on_alloc, on_read) == 0;
  }
}

void Connection::stop_reading() {
  if (reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&handle_));
  reading_ = false;
}

// memcached transmits after every get and mn; what it has not transmitted, an HTTP line or a
// get with an over-long key throws away, so marking the same points makes the replies match
// byte for byte. Each command then passes conn_new_cmd, as does each transmit that no command
// asked for (when the input runs out with replies composed, see process_buffer()); past -R
// (20) of these in one event memcached transmits, counts a yield and lets the other
// connections have their turn. An event that goes on after a yield starts with one such pass.
// Here the yield marks that transmit point, but what was composed waits for the rest of the
// read's commands, so that their replies still leave in one write.
void Connection::completed(bool transmits) {
  if (transmits) out_.mark();
  reply_pending_ = !transmits;
  visit();
}

void Connection::visit() {
  if (++visits_ <= worker_.settings().reqs_per_event) return;
  out_.mark();
  reply_pending_ = false;
  yielded_ = true;
  worker_.io().conn_yields.fetch_add(1, std::memory_order_relaxed);
}

const char* Connection::state_name() const {
  return waiting_for_drain_ ? "conn_mwrite"
         : state_ == State::Data || state_ == State::BinaryValue || state_ == State::AuthData ? "conn_nread"
         : state_ == State::Swallow ? "conn_swallow" : "conn_waiting";
}

ConnectionInfo Connection::describe() const {
  return ConnectionInfo{id_, addr_, shown_state_.load(std::memory_order_relaxed), last_command_at_.load(std::memory_order_relaxed)};
}

void Connection::process() {
  // Going on after a yield, the replies of the part before are still here: the log's end from
  // before that part tells whether they wait for the peer.
  if (SyncGate* gate = worker_.gate(); gate && !goes_on_) seen_log_end_ = gate->log_end();
  shown_state_.store("conn_parse_cmd", std::memory_order_relaxed);
  last_command_at_.store(now_seconds(), std::memory_order_relaxed);
  process_buffer();
  unlock_store();
  if (goes_on_ && !closing_) {
    if (!resume_queued_) {
      resume_queued_ = true;
      worker_.resume_later(this);
    }
  } else if (end_of_input_ && !closing_ && !waiting_for_drain_ && !auth_delayed_) {
    // The end waits, as the commands do, for a client to read or a failed login's delay.
    close_after_flush();
  }
  shown_state_.store(state_name(), std::memory_order_relaxed);
}

void Connection::process_buffer() {
  visits_ = goes_on_ ? 1 : 0;
  yielded_ = goes_on_ = false;
  Commands& commands = worker_.commands();
  while (rpos_ < rlen_ && !closing_ && !auth_delayed_ && !yielded_) {
    // Taken once per read event, unless a flush let it go in between.
    if (!store_held_.owns_lock()) store_held_.lock();
    size_t avail = rlen_ - rpos_;
    if (protocol_ == Protocol::Unknown) {
      // memcached's try_read_command_negotiate: 0x80 first is binary, anything else text.
      protocol_ = static_cast<uint8_t>(rbuf_[rpos_]) == binary::kRequestMagic ? Protocol::Binary : Protocol::Text;
      state_ = idle_state();
    }
    if (state_ == State::Swallow) {
      size_t n = swallow_ < avail ? swallow_ : avail;
      rpos_ += n;
      swallow_ -= n;
      if (swallow_ == 0) {
        state_ = idle_state();
        completed(false);
      }
      continue;
    }
    if (state_ == State::BinaryHeader || state_ == State::BinaryValue) {
      if (!binary_step()) break;
    } else if (state_ == State::AuthLine || state_ == State::AuthData) {
      if (!ascii_auth_step()) break;
    } else if (state_ == State::Data) {
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
        if (!line_may_grow(worker_.settings().lines, start, avail)) return close_after_flush();
        break;
      }
      size_t len = static_cast<size_t>(nl - start);
      if (len > worker_.settings().lines.max_complete_line && !is_get_line(start, len)) return close_after_flush();
      size_t line_len = len > 1 && start[len - 1] == '\r' ? len - 1 : len;
      if (worker_.settings().log_level() >= 2) log_line("debug", "<" + std::to_string(id_) + " " + printable(start, line_len));
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
    // Binary replies leave only where memcached transmits, however large (memcached has no such
    // bound): their values are references into items, and one read holds a bounded number of
    // packets.
    if (protocol_ != Protocol::Binary && out_.pending() >= worker_.settings().output_flush_at) flush();
    if (unsent() >= worker_.settings().output_high_water) {
      waiting_for_drain_ = true;
      stop_reading();
      break;
    }
  }
  // A failed authentication holds everything composed until its delay has passed.
  if (auth_delayed_) return;
  // memcached transmits when it needs more of a command line or packet header (not while it
  // waits for a data block or value): then its replies release their items.
  if (state_ == State::Line || state_ == State::BinaryHeader || state_ == State::AuthLine) {
    out_.mark();
    if (yielded_) {
      goes_on_ = rpos_ < rlen_;
    } else if (reply_pending_ && !closing_) {
      // That transmit passes conn_new_cmd too, and may be the pass past -R; with only part of
      // a command left, going on would find nothing to do.
      reply_pending_ = false;
      visit();
    }
  }
  // The replies of a read event leave in one write: after a yield, once the rest has run.
  if (goes_on_) return;
  // A binary connection waiting for a value or a swallowed body holds what was composed after
  // its last transmit point: only what came before it leaves.
  flush(protocol_ == Protocol::Binary && (state_ == State::BinaryValue || state_ == State::Swallow));
}

bool Connection::binary_step() {
  Commands& commands = worker_.commands();
  if (state_ == State::BinaryValue) {
    size_t run = item_->nvalue - filled_;
    if (run > rlen_ - rpos_) run = rlen_ - rpos_;
    memcpy(item_->value() + filled_, rbuf_ + rpos_, run);
    filled_ += run;
    rpos_ += run;
    if (filled_ < item_->nvalue) return false;
    state_ = State::BinaryHeader;
    Item* it = item_;
    item_ = nullptr;
    binary_next(commands.complete_binary(breq_, it, auth_, out_));
    return true;
  }
  size_t avail = rlen_ - rpos_;
  if (avail < binary::kHeaderLength) return false;
  const char* start = rbuf_ + rpos_;
  binary::Header h = binary::decode_header(start);
  if (h.magic != binary::kRequestMagic) {
    // memcached closes at once: what it has not transmitted yet is never sent.
    out_.discard();
    close_after_flush();
    return false;
  }
  size_t need = binary::kHeaderLength + h.extlen + h.keylen;
  if (avail < need) {
    // A start that cannot fit memcached's read buffer: it transmits what it has, fills the
    // buffer, reads zero bytes as the client closing and closes.
    if (need > binary::kReadBufferSize && avail >= binary::kReadBufferSize) {
      out_.mark();
      close_after_flush();
    }
    return false;
  }
  breq_ = binary::decode_request(h, start);
  if (worker_.settings().log_level() >= 2) {
    const char* name = binary::opcode_name(h.opcode);
    char code[8];
    if (!name) {
      snprintf(code, sizeof(code), "0x%02x", h.opcode);
      name = code;
    }
    log_line("debug", "<" + std::to_string(id_) + " " + name + " " + printable(breq_.key.data(), breq_.key.size()) + " (body " +
                          std::to_string(h.bodylen) + " bytes, opaque " + std::to_string(h.opaque) + ")");
  }
  Item* item = nullptr;
  BinaryNext next = commands.binary(breq_, auth_, &item, out_);
  rpos_ += need;
  // The key's bytes may move with the read buffer; what follows reads it from the item.
  breq_.key = std::string_view();
  if (next.what == BinaryNext::ReadValue) {
    if (item->nvalue > 0) {
      item_ = item;
      filled_ = 0;
      state_ = State::BinaryValue;
      return true;
    }
    next = commands.complete_binary(breq_, item, auth_, out_);
  }
  binary_next(next);
  return true;
}

void Connection::binary_next(const BinaryNext& next) {
  if (next.what == BinaryNext::Swallow && next.swallow > 0) {
    state_ = State::Swallow;
    swallow_ = next.swallow;
  } else {
    completed(next.transmit);
  }
  if (next.close) return close_after_flush();
  if (next.delay) delay_after_auth_failure();
}

bool Connection::auth_line() const { return worker_.settings().ascii_auth && !auth_.authenticated && protocol_ == Protocol::Text; }

namespace {

// memcached's tokenize_command: words between spaces, empty ones skipped.
size_t split_words(std::string_view s, std::string_view* words, size_t max) {
  size_t n = 0, i = 0;
  while (i < s.size() && n < max) {
    while (i < s.size() && s[i] == ' ') i++;
    size_t b = i;
    while (i < s.size() && s[i] != ' ') i++;
    if (i > b) words[n++] = s.substr(b, i - b);
  }
  return n;
}

// memcached's safe_strtoul (strtoul's leading blanks and sign, a blank or the end after the
// digits, a negative number refused unless it is zero), into 32 bits as memcached stores it.
bool auth_size(std::string_view s, uint32_t& out) {
  size_t i = 0;
  while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) i++;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  size_t digits = i;
  uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) {
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // ERANGE
    v = v * 10 + d;
  }
  if (i == digits) return false;
  if (i < s.size() && !isspace(static_cast<unsigned char>(s[i]))) return false;
  if (negative && v != 0) return false;
  out = static_cast<uint32_t>(v);
  return true;
}


}  // namespace

bool Connection::ascii_auth_step() {
  size_t avail = rlen_ - rpos_;
  const char* start = rbuf_ + rpos_;
  if (state_ == State::AuthLine) {
    if (avail < 2) return false;
    const char* nl = static_cast<const char*>(memchr(start, '\n', avail));
    if (!nl) {
      // try_read_command_asciiauth closes a connection that sent this much without a newline.
      if (avail > worker_.settings().lines.max_command_line) {
        out_.discard();
        close_after_flush();
      }
      return false;
    }
    size_t len = static_cast<size_t>(nl - start);
    rpos_ += len + 1;
    // "set <key> <flags> <exptime> <bytes>": only the length counts.
    std::string_view words[5];
    uint32_t size = 0;
    if (split_words(std::string_view(start, len), words, 5) < 5 || words[0] != "set" || !auth_size(words[4], size)) {
      // memcached answers every step before authentication in one response object until it is
      // transmitted: a later answer in the same read replaces an earlier one.
      out_.discard();
      out_.line("CLIENT_ERROR unauthenticated");
      completed(false);
      return true;
    }
    auth_data_ = uint64_t{size} + 2;
    state_ = State::AuthData;
    return true;
  }
  if (avail < auth_data_) {
    // The data can only be read from memcached's 16 KB buffer: more never completes.
    if (avail > binary::kReadBufferSize) close_after_flush();
    return false;
  }
  std::string_view data(start, static_cast<size_t>(auth_data_));
  rpos_ += data.size();
  bool delay = false;
  out_.discard();
  if (data.substr(data.size() - 2) != "\r\n") {
    out_.line("CLIENT_ERROR bad command line termination");
  } else {
    // The block is read as a C string: a NUL ends it.
    data = data.substr(0, data.size() - 2);
    data = data.substr(0, data.find('\0'));
    std::string_view words[2];
    if (split_words(data, words, 2) < 2) out_.line("CLIENT_ERROR bad authentication token format");
    else worker_.commands().ascii_auth(words[0], words[1], auth_, out_, delay);
  }
  state_ = idle_state();
  completed(false);
  if (delay) delay_after_auth_failure();
  return true;
}

void Connection::delay_after_auth_failure() {
  auth_delayed_ = true;
  stop_reading();
  if (!auth_delay_open_) {
    uv_timer_init(worker_.loop(), &auth_delay_);
    auth_delay_.data = this;
    auth_delay_open_ = true;
    handles_open_++;
  }
  uv_timer_start(&auth_delay_, [](uv_timer_t* t) {
    auto* c = static_cast<Connection*>(t->data);
    c->auth_delayed_ = false;
    if (c->closing_) return;
    if (!c->waiting_for_drain_) c->reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle_), on_alloc, on_read) == 0;
    c->process();
  }, kAuthFailureDelayMs, 0);
}

void Connection::flush(bool marked_only) {
  // No system call is made under the store lock.
  unlock_store();
  if (out_.pending() == 0 || closed_) return;
  if (SyncGate* gate = worker_.gate()) {
    uint64_t end = gate->log_end();
    uint64_t offset = end != seen_log_end_ ? end : 0;
    seen_log_end_ = end;
    if (!held_.empty() || gate->must_hold(offset)) {
      WriteBatch* b = marked_only ? out_.take_marked() : out_.take();
      if (!b) return;
      worker_.io().bytes_written.fetch_add(b->bytes, std::memory_order_relaxed);
      held_.push_back(Held{b, offset});
      held_bytes_ += b->bytes;
      worker_.wait_for_ack(this);
      return;
    }
  }
  // Nothing queued before these replies: straight to the socket, as memcached's sendmsg. A
  // write request that completes at once would still leave libuv a write watcher to stop, one
  // epoll_ctl per reply, and a callback on the next loop turn.
  if (!marked_only && handle_.write_queue_size == 0) {
    worker_.io().bytes_written.fetch_add(out_.try_write(reinterpret_cast<uv_stream_t*>(&handle_)), std::memory_order_relaxed);
    if (out_.pending() == 0) return;
  }
  WriteBatch* b = marked_only ? out_.take_marked() : out_.take();
  if (!b) return;
  worker_.io().bytes_written.fetch_add(b->bytes, std::memory_order_relaxed);
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
  worker_.forget(this);
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
  if (c->waiting_for_drain_ && !c->closing_ && !c->auth_delayed_ && c->unsent() < c->worker_.settings().output_high_water / 2) {
    c->waiting_for_drain_ = false;
    c->reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(&c->handle_), on_alloc, on_read) == 0;
    c->process();
  }
}

void Connection::close_after_flush() {
  if (closing_) return;
  closing_ = true;
  flush();
  stop_reading();
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
  uv_timer_init(worker_.loop(), &linger_);
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
  worker_.forget(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_close);
  if (linger_started_) uv_close(reinterpret_cast<uv_handle_t*>(&linger_), on_close);
  if (auth_delay_open_) uv_close(reinterpret_cast<uv_handle_t*>(&auth_delay_), on_close);
}

void Connection::on_close(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->handles_open_ == 0) c->worker_.connection_closed(c);
}

}  // namespace mcha

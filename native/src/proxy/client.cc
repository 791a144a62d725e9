// The client side of the proxy's C++ data path: accepting, reading and framing, the replies in
// request order (one writev per client per loop turn), and the handoff of a connection to the
// TypeScript path. Mirrors src/proxy/client.ts.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "proxy/binary_framer.h"
#include "proxy/meta_framer.h"
#include "proxy/proxy_core.h"

namespace mcha {
namespace {

// A slot's buffers are kept for the next request unless a large one grew them past this.
constexpr size_t kKeepCapacity = 64 * 1024;
constexpr size_t kMaxIov = 512;
// Replies of a pipelined batch wait for the rest of it (one write per batch instead of one per
// backend read), at most kLaterMs, and only while less than kEarlyFlush bytes are ready.
constexpr uint64_t kLaterMs = 1;
constexpr size_t kEarlyFlush = 16 * 1024;

// A binary request's reply: the node's packet with the client's opcode, dropped where quiet
// mode hides it; an error of the proxy's own (a text SERVER_ERROR: no node answered) as a
// "temporary failure" packet with the reason.
void complete_binary(ReplySlot& s, const char* p, size_t n) {
  if (n >= binary::kHeaderLength && static_cast<uint8_t>(p[0]) == binary::kResponseMagic) {
    if (s.binary_quiet && binary_quiet_drops(s.binary_opcode, p, n)) return s.out.clear();
    s.out.assign(p, n);
    s.out[1] = static_cast<char>(s.binary_opcode);
    return;
  }
  static const char kPrefix[] = "SERVER_ERROR ";
  size_t skip = n >= sizeof(kPrefix) - 1 && std::memcmp(p, kPrefix, sizeof(kPrefix) - 1) == 0 ? sizeof(kPrefix) - 1 : 0;
  size_t len = n - skip;
  if (len >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n') len -= 2;
  s.out.assign(binary::kHeaderLength, '\0');
  s.out[0] = static_cast<char>(binary::kResponseMagic);
  s.out[1] = static_cast<char>(s.binary_opcode);
  s.out[6] = static_cast<char>(kBinaryTemporaryFailure >> 8);
  s.out[7] = static_cast<char>(kBinaryTemporaryFailure & 0xff);
  s.out[8] = static_cast<char>(len >> 24);
  s.out[9] = static_cast<char>(len >> 16);
  s.out[10] = static_cast<char>(len >> 8);
  s.out[11] = static_cast<char>(len);
  std::memcpy(&s.out[12], s.binary_opaque, 4);
  s.out.append(p + skip, len);
}

}  // namespace

void ProxyCore::on_connection(uv_stream_t* server, int status) {
  auto* core = static_cast<ProxyCore*>(server->data);
  if (status < 0 || core->stopping_) return;  // EMFILE and the like: the next one may fare better
  auto* c = new ClientConnection();
  c->core = core;
  if (core->unix_) uv_pipe_init(core->loop_, &c->handle.pipe, 0);
  else uv_tcp_init(core->loop_, &c->handle.tcp);
  c->stream()->data = c;
  core->open_++;
  if (uv_accept(server, c->stream()) != 0 ||
      (core->settings_.max_clients > 0 && core->clients_.size() + core->other_clients_ >= core->settings_.max_clients)) {
    // Over -n, as net.Server does: closed at once.
    c->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), on_client_closed);
    return;
  }
  if (!core->unix_) uv_tcp_nodelay(&c->handle.tcp, 1);
  c->id = core->next_id_++;
  c->lane = core->next_lane_++;
  c->ring.resize(16);
  core->clients_[c->id] = c;
  core->counters_[kTotalConnections]++;
  core->update_reading(c);
}

ClientConnection* ProxyCore::find(uint32_t id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

// Whether a client may send more: few enough replies owed and output unsent.
bool ProxyCore::within_bounds(const ClientConnection* c) const { return c->count < settings_.max_in_flight && unsent(c) < settings_.output_high_water; }

void ProxyCore::update_reading(ClientConnection* c) {
  if (c->closing) return;
  bool want = !c->eof && !c->handoff && within_bounds(c);
  if (want == c->reading) return;
  if (want) {
    c->reading = uv_read_start(c->stream(), on_alloc, on_read) == 0;
  } else {
    uv_read_stop(c->stream());
    c->reading = false;
  }
}

void ProxyCore::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<ClientConnection*>(h->data);
  buf->base = c->core->read_buf_;
  buf->len = sizeof(c->core->read_buf_);
}

void ProxyCore::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<ClientConnection*>(s->data);
  ProxyCore* core = c->core;
  if (c->closing) return;
  if (nread < 0) {
    if (nread != UV_EOF) return core->close_client(c);
    // The client shut its side: every reply owed still goes out, then the connection ends.
    c->eof = true;
    core->update_reading(c);
    core->mark_dirty(c);
    return;
  }
  if (nread == 0) return;
  size_t n = static_cast<size_t>(nread);
  if (c->in_off == c->in.size()) {
    // Nothing held back: frame straight from the read buffer, keep only an incomplete tail.
    c->in.clear();
    c->in_off = 0;
    size_t off = core->process(c, buf->base, n, 0);
    if (off < n) c->in.assign(buf->base + off, n - off);
  } else {
    c->in.append(buf->base, n);
    core->process_held(c);
  }
  core->update_reading(c);
}

void ProxyCore::process_held(ClientConnection* c) {
  c->in_off = process(c, c->in.data(), c->in.size(), c->in_off);
  if (c->in_off == c->in.size()) {
    c->in.clear();
    c->in_off = 0;
  } else if (c->in_off > sizeof(read_buf_)) {
    c->in.erase(0, c->in_off);
    c->in_off = 0;
  }
}

// Forwards the plain requests in p[off, n); returns where framing stopped.
size_t ProxyCore::process(ClientConnection* c, const char* p, size_t n, size_t off) {
  PlainRequest r;
  if (off < n && !c->started) {
    c->started = true;
    c->binary = static_cast<uint8_t>(p[off]) == 0x80;
  }
  if (c->binary) return process_binary(c, p, n, off);
  while (off < n && !c->closing && !c->handoff && !stopping_) {
    if (!within_bounds(c)) break;
    Framed f = frame_plain(p, n, off, settings_.lines, static_cast<int64_t>(settings_.max_value), true, true, true, req_, r);
    if (f == Framed::NeedMore) break;
    if (f == Framed::Other) {
      // The TypeScript path takes this connection from this request on, once the replies
      // owed before it went out.
      c->handoff = true;
      mark_dirty(c);
      break;
    }
    forward(c, p, r);
    off = r.end;
  }
  return off;
}

// Forwards the keyed binary requests in p[off, n) and answers noops; returns where framing
// stopped. Anything else moves the connection to the TypeScript path (see binary_framer.h).
size_t ProxyCore::process_binary(ClientConnection* c, const char* p, size_t n, size_t off) {
  BinaryRequest r;
  while (off < n && !c->closing && !c->handoff && !stopping_) {
    if (!within_bounds(c)) break;
    BinaryFramed f = frame_binary(p, n, off, settings_.max_value, r);
    if (f == BinaryFramed::NeedMore) break;
    if (f == BinaryFramed::Other) {
      c->handoff = true;
      mark_dirty(c);
      break;
    }
    if (f == BinaryFramed::Noop) answer_noop(c, p, r);
    else forward_binary(c, p, r);
    off = r.end;
  }
  return off;
}

void ProxyCore::grow(ClientConnection* c) {
  std::vector<ReplySlot> bigger(c->ring.size() * 2);
  for (uint32_t i = 0; i < c->count; i++) {
    uint32_t seq = c->head_seq + i;
    bigger[seq & (bigger.size() - 1)] = std::move(c->at(seq));
  }
  c->ring.swap(bigger);
}

void ProxyCore::complete(ClientConnection* c, uint32_t seq, const char* p, size_t n) {
  ReplySlot& s = c->at(seq);
  if (s.binary) {
    complete_binary(s, p, n);
  } else if (s.silent || (s.quiet != 0 && quiet_drops(s.quiet, p, n))) {
    s.out.clear();
  } else {
    s.out.assign(p, n);
  }
  s.done = true;
  s.unit.req.clear();
  // The head's reply can go; a client holding replies back may now have its whole batch.
  if (seq == c->head_seq || c->later) mark_dirty(c);
}

void ProxyCore::mark_dirty(ClientConnection* c) {
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(c->id);
  }
  work();
}

// Sends the replies ready at the head of the order, in one writev. While later replies of a
// pipelined batch are on their way, small output waits for them (see kLaterMs) unless `force`.
void ProxyCore::flush(ClientConnection* c, bool force) {
  if (c->closing) return;
  uint32_t n = 0;
  size_t ready = 0;
  while (n < c->count && c->at(c->head_seq + n).done) ready += c->at(c->head_seq + n++).out.size();
  if (n > 0 && n < c->count && !force && ready < kEarlyFlush) {
    if (!c->later) {
      c->later = true;
      later_.push_back(c->id);
      if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&later_timer_))) uv_timer_start(&later_timer_, on_later, kLaterMs, 0);
    }
    return;
  }
  if (n > 0) {
    size_t done = 0;
    if (!c->writing && c->out.empty()) {
      // Straight from the slots; what the kernel does not take is copied to out.
      uint32_t k = std::min<uint32_t>(n, kMaxIov);
      iov_.resize(k);
      size_t total = 0;
      for (uint32_t i = 0; i < k; i++) {
        ReplySlot& s = c->at(c->head_seq + i);
        iov_[i] = uv_buf_init(s.out.data(), static_cast<unsigned>(s.out.size()));
        total += s.out.size();
      }
      int w = total == 0 ? 0 : uv_try_write(c->stream(), iov_.data(), k);
      if (w < 0 && w != UV_EAGAIN) return close_client(c);
      done = w > 0 ? static_cast<size_t>(w) : 0;
      if (done > total) done = total;
    }
    for (uint32_t i = 0; i < n; i++) {
      ReplySlot& s = c->at(c->head_seq + i);
      if (done >= s.out.size()) {
        done -= s.out.size();
      } else {
        c->out.append(s.out, done, std::string::npos);
        done = 0;
      }
      s.done = false;
      if (s.out.capacity() > kKeepCapacity) std::string().swap(s.out);
      else s.out.clear();
      if (s.unit.req.capacity() > kKeepCapacity) std::string().swap(s.unit.req);
    }
    c->head_seq += n;
    c->count -= n;
    kick_write(c);
    if (c->closing) return;
  }
  maybe_finish(c);
}

void ProxyCore::kick_write(ClientConnection* c) {
  if (c->writing || c->out.empty() || c->closing) return;
  c->inflight.swap(c->out);
  c->out.clear();
  uv_buf_t b = uv_buf_init(c->inflight.data(), static_cast<unsigned>(c->inflight.size()));
  c->write_req.data = c;
  c->writing = true;
  if (uv_write(&c->write_req, c->stream(), &b, 1, on_write) != 0) {
    c->writing = false;
    close_client(c);
  }
}

void ProxyCore::on_write(uv_write_t* req, int status) {
  auto* c = static_cast<ClientConnection*>(req->data);
  c->writing = false;
  c->inflight.clear();
  if (c->closing) return;
  if (status < 0) return c->core->close_client(c);
  c->core->kick_write(c);
  c->core->maybe_finish(c);
}

// After output moved: hand over, end, or read again when the bounds allow.
void ProxyCore::maybe_finish(ClientConnection* c) {
  if (c->closing) return;
  if (c->handoff && c->idle()) return handoff(c);
  if (c->eof && c->idle()) return close_client(c);
  if (!c->reading && !c->handoff && !c->eof && within_bounds(c)) {
    process_held(c);
    update_reading(c);
  }
}

// Gives the connection to TypeScript: a duplicate of its descriptor and its unread input.
void ProxyCore::handoff(ClientConnection* c) {
  int fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->handle), &fd) == 0) fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0 && !stopping_) {
    counters_[kHandoffs]++;
    ProxyEvent e{kEventHandoff, fd, static_cast<int32_t>(c->lane), 0, c->in.substr(c->in_off), c->binary};
    events_.push_back(std::move(e));
    work();
  } else if (fd >= 0) {
    ::close(fd);
  }
  close_client(c);
}

void ProxyCore::close_client(ClientConnection* c) {
  if (c->closing) return;
  c->closing = true;
  clients_.erase(c->id);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), on_client_closed);
}

void ProxyCore::on_client_closed(uv_handle_t* h) {
  auto* c = static_cast<ClientConnection*>(h->data);
  ProxyCore* core = c->core;
  delete c;
  core->handle_closed();
}

}  // namespace mcha

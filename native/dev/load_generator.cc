// The benchmarks' load generator (bench/load.ts): a pipelined client in C++ on a worker thread,
// so that on a 2-core host the generator costs the servers under test little CPU: each
// connection sends a prebuilt batch of `depth` requests, counts the replies, and sends the next
// batch when all have come back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "dev_hooks.h"

namespace mcha {
namespace {

struct LoadConn {
  int fd = -1;
  std::vector<std::string> batches;
  size_t next = 0;
  const std::string* sending = nullptr;
  size_t sent = 0;
  int64_t outstanding = 0;
  bool after_newline = true;  // the next byte starts a line (a VALUE header counts as a hit)
  // Binary replies: header bytes of the current packet seen so far, then body bytes still to skip.
  uint8_t header[24];
  size_t header_have = 0;
  uint64_t body_left = 0;
  std::chrono::steady_clock::time_point sent_at;
};

// How replies are told apart: text and meta by lines (a hit adds lines to its reply), binary
// by packet, every request answered by one packet (no quiet opcodes are sent).
enum class Framing { Text, Meta, Binary };

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, uint16_t port, uint32_t depth, uint32_t duration_ms, Framing framing, std::vector<std::vector<std::string>> pools)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), port_(port), depth_(depth), duration_ms_(duration_ms),
        framing_(framing) {
    for (auto& p : pools) {
      conns_.emplace_back();
      conns_.back().batches = std::move(p);
    }
  }
  ~LoadWorker() override {
    for (auto& c : conns_)
      if (c.fd >= 0) close(c.fd);
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    for (auto& c : conns_) {
      if (!connect_one(c)) return;
    }
    timespec cpu0{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::milliseconds(duration_ms_);
    for (auto& c : conns_) begin_batch(c);
    std::vector<pollfd> fds(conns_.size());
    std::vector<char> buf(256 * 1024);
    size_t active = conns_.size();
    while (active > 0) {
      for (size_t i = 0; i < conns_.size(); i++) {
        fds[i].fd = conns_[i].fd;
        fds[i].events = static_cast<short>(conns_[i].fd < 0 ? 0 : POLLIN | (conns_[i].sending ? POLLOUT : 0));
        fds[i].revents = 0;
      }
      if (poll(fds.data(), fds.size(), 1000) < 0) {
        if (errno == EINTR) continue;
        return fail("poll");
      }
      auto now = std::chrono::steady_clock::now();
      if (now > deadline + std::chrono::seconds(10)) return fail("replies stopped coming", 0);
      for (size_t i = 0; i < conns_.size(); i++) {
        LoadConn& c = conns_[i];
        if (c.fd < 0 || fds[i].revents == 0) continue;
        if (fds[i].revents & POLLOUT) {
          if (!flush(c)) return fail("send");
        }
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = read(c.fd, buf.data(), buf.size());
          if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          if (n == 0) return fail("the server closed a connection", 0);
          if (n < 0) return fail("read");
          count(c, buf.data(), static_cast<size_t>(n));
          if (c.outstanding <= 0) {
            rtts_us_.push_back(std::chrono::duration<double, std::micro>(now - c.sent_at).count());
            if (now >= deadline) {
              close(c.fd);
              c.fd = -1;
              active--;
            } else {
              begin_batch(c);
              if (!flush(c)) return fail("send");
            }
          }
        }
      }
    }
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    timespec cpu1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    cpu_seconds_ = static_cast<double>(cpu1.tv_sec - cpu0.tv_sec) + static_cast<double>(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  }

  void OnOK() override {
    Napi::Env env = Env();
    std::sort(rtts_us_.begin(), rtts_us_.end());
    auto pct = [&](double q) { return rtts_us_.empty() ? 0.0 : rtts_us_[static_cast<size_t>(static_cast<double>(rtts_us_.size()) * q)]; };
    Napi::Object out = Napi::Object::New(env);
    out.Set("ops", static_cast<double>(ops_));
    out.Set("seconds", seconds_);
    out.Set("p50us", pct(0.5));
    out.Set("p99us", pct(0.99));
    out.Set("clientCpu", cpu_seconds_);
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  bool connect_one(LoadConn& c) {
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c.fd < 0) return fail("socket"), false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) return fail("connect"), false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }

  void begin_batch(LoadConn& c) {
    c.sending = &c.batches[c.next++ % c.batches.size()];
    c.sent = 0;
    c.outstanding = depth_;
    c.sent_at = std::chrono::steady_clock::now();
  }

  // Sends what the socket takes now; the rest goes when poll says it can.
  bool flush(LoadConn& c) {
    while (c.sending && c.sent < c.sending->size()) {
      ssize_t n = send(c.fd, c.sending->data() + c.sent, c.sending->size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      c.sent += static_cast<size_t>(n);
    }
    c.sending = nullptr;
    return true;
  }

  void count(LoadConn& c, const char* p, size_t n) {
    int64_t done = framing_ == Framing::Binary ? count_packets(c, p, n) : count_lines(c, p, n);
    c.outstanding -= done;
    ops_ += static_cast<uint64_t>(done > 0 ? done : 0);
  }

  // Every reply has one line that is not part of a hit's value block (END, STORED, HD, EN, an
  // error, or a meta hit's VA header); a hit adds more: 2 for a text hit (VALUE header and
  // value before END), 1 for a meta hit (the value after VA). A hit is a line that starts with
  // 'V'; values are 'v' bytes only, so this is exact.
  int64_t count_lines(LoadConn& c, const char* p, size_t n) {
    int64_t lines = 0;
    int64_t hits = 0;
    for (size_t i = 0; i < n; i++) {
      if (c.after_newline && p[i] == 'V') hits++;
      c.after_newline = p[i] == '\n';
      if (c.after_newline) lines++;
    }
    return lines - (framing_ == Framing::Text ? 2 : 1) * hits;
  }

  // Whole response packets: a 24-byte header whose bytes 8..11 give the body length.
  int64_t count_packets(LoadConn& c, const char* p, size_t n) {
    int64_t packets = 0;
    size_t i = 0;
    while (i < n) {
      if (c.body_left > 0) {
        size_t skip = n - i < c.body_left ? n - i : static_cast<size_t>(c.body_left);
        i += skip;
        c.body_left -= skip;
        if (c.body_left == 0) packets++;
        continue;
      }
      c.header[c.header_have++] = static_cast<uint8_t>(p[i++]);
      if (c.header_have < sizeof(c.header)) continue;
      c.header_have = 0;
      c.body_left = (uint64_t{c.header[8]} << 24) | (uint64_t{c.header[9]} << 16) | (uint64_t{c.header[10]} << 8) | c.header[11];
      if (c.body_left == 0) packets++;
    }
    return packets;
  }

  // `err`: the errno to name, or 0 for a failure that is not a system call's.
  void fail(const char* what, int err = errno) {
    SetError(std::string("load generator: ") + what + (err ? std::string(": ") + strerror(err) : std::string()));
  }

  Napi::Promise::Deferred deferred_;
  uint16_t port_;
  uint32_t depth_;
  uint32_t duration_ms_;
  Framing framing_;
  std::vector<LoadConn> conns_;
  std::vector<double> rtts_us_;
  uint64_t ops_ = 0;
  double seconds_ = 0;
  double cpu_seconds_ = 0;
};

// runLoad(port, depth, durationMs, framing, pools: Buffer[][]): Promise<{ops, seconds, p50us, p99us, clientCpu}>
// One connection per pool; each pool holds that connection's prebuilt batches of `depth` requests;
// framing: 'text', 'meta' or 'binary', how replies are counted (see count()).
Napi::Value RunLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsString() || !info[4].IsArray()) {
    Napi::TypeError::New(env, "runLoad(port, depth, durationMs, framing, pools)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string framing_name = info[3].As<Napi::String>().Utf8Value();
  Framing framing = framing_name == "binary" ? Framing::Binary : framing_name == "meta" ? Framing::Meta : Framing::Text;
  if (framing == Framing::Text && framing_name != "text") {
    Napi::TypeError::New(env, "runLoad: framing is 'text', 'meta' or 'binary'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<std::vector<std::string>> pools;
  Napi::Array arr = info[4].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsArray()) {
      Napi::TypeError::New(env, "runLoad: each pool is an array of Buffers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array pool = v.As<Napi::Array>();
    pools.emplace_back();
    for (uint32_t j = 0; j < pool.Length(); j++) {
      Napi::Value b = pool.Get(j);
      if (!b.IsBuffer()) {
        Napi::TypeError::New(env, "runLoad: each pool is an array of Buffers").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      Napi::Buffer<char> buf = b.As<Napi::Buffer<char>>();
      pools.back().emplace_back(buf.Data(), buf.Length());
    }
    if (pools.back().empty()) {
      Napi::TypeError::New(env, "runLoad: an empty pool").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  auto* w = new LoadWorker(env, static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()), info[1].As<Napi::Number>().Uint32Value(),
                           info[2].As<Napi::Number>().Uint32Value(), framing, std::move(pools));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace

void register_load_generator(Napi::Env env, Napi::Object bench) { bench.Set("runLoad", Napi::Function::New(env, RunLoad)); }

}  // namespace mcha

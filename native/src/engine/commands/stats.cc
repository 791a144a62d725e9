// `stats` and its sub-groups, in memcached's field names and order. Mirrors
// src/engine/ts/commands/stats.ts.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "engine/commands/execute.h"
#include "engine/store/clock.h"

namespace mcha {
namespace {

using Emit = std::function<void(std::string_view, std::string_view)>;

void stat(const Emit& out, std::string_view name, const std::string& value) { out(name, value); }

void stat(const Emit& out, std::string_view name, uint64_t value) { stat(out, name, std::to_string(value)); }

void text_stat(Writer& out, std::string_view name, std::string_view value) {
  out.text("STAT ", 5);
  out.text(name);
  out.text(" ", 1);
  out.text(value);
  out.text("\r\n", 2);
}

std::string seconds(const struct timeval& tv) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec), static_cast<long>(tv.tv_usec));
  return buf;
}

}  // namespace

void Commands::stats(const Request& req, Writer& out) {
  std::string_view sub = req.args.empty() ? std::string_view() : req.args[0];
  if (sub == "reset") {
    reset_stats();
    return out.line("RESET");
  }
  if (sub == "detail") {
    std::string_view mode = req.args.size() >= 2 ? req.args[1] : std::string_view();
    if (mode == "on" || mode == "off") return out.line("OK");
    if (mode == "dump") return out.line("END");
    return out.line("CLIENT_ERROR usage: stats detail on|off|dump");
  }
  Emit emit = [&out](std::string_view name, std::string_view value) { text_stat(out, name, value); };
  if (sub == "replication" && h_.replication_stats) {
    // As the replication layer rendered it, then the live end of this node's stream.
    out.text(*h_.replication_stats);
    stat(emit, "offset", h_.log ? h_.log->end() : 0);
    return out.line("END");
  }
  if (!stat_group(sub, emit)) return out.line("ERROR");
  out.line("END");
}

void Commands::reset_stats() {
  c_ = CommandCounters();
  h_.reset_connection_counters();
}

bool Commands::stat_group(std::string_view sub, const Emit& out) {
  const Settings& s = h_.settings;
  const StoreCounters& sc = h_.store.counters();
  if (sub == "replication" && h_.replication_stats) {
    // STAT lines, as the replication layer rendered them (the binary protocol's packets).
    std::string_view text = *h_.replication_stats;
    while (!text.empty()) {
      size_t end = text.find("\r\n");
      std::string_view line = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 2);
      if (line.substr(0, 5) != "STAT ") continue;
      line.remove_prefix(5);
      size_t space = line.find(' ');
      if (space == std::string_view::npos) out(line, {});
      else out(line.substr(0, space), line.substr(space + 1));
    }
    // Live, unlike the lines above: the end of this node's stream, records not yet drained included.
    stat(out, "offset", h_.log ? h_.log->end() : 0);
    return true;
  }
  if (sub.empty()) {
    uint32_t now = now_seconds();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const ConnectionCounters cc = h_.connection_counters();
    stat(out, "pid", static_cast<uint64_t>(getpid()));
    stat(out, "uptime", now - h_.started_at);
    stat(out, "time", now);
    stat(out, "version", s.version);
    stat(out, "pointer_size", 64);
    stat(out, "rusage_user", seconds(ru.ru_utime));
    stat(out, "rusage_system", seconds(ru.ru_stime));
    stat(out, "max_connections", s.max_connections);
    stat(out, "curr_connections", cc.curr);
    stat(out, "total_connections", cc.total);
    stat(out, "rejected_connections", cc.rejected);
    stat(out, "cmd_get", c_.cmd_get);
    stat(out, "cmd_set", c_.cmd_set);
    stat(out, "cmd_flush", c_.cmd_flush);
    stat(out, "cmd_touch", c_.cmd_touch);
    stat(out, "cmd_meta", c_.cmd_meta);
    stat(out, "get_hits", c_.get_hits);
    stat(out, "get_misses", c_.get_misses);
    stat(out, "get_expired", sc.expired_on_access);
    stat(out, "get_flushed", sc.flushed_on_access);
    for (const NamedCounter& n : kOutcomeCounters) stat(out, n.name, c_.*n.field);
    stat(out, "auth_cmds", c_.auth_cmds);
    stat(out, "auth_errors", c_.auth_errors);
    stat(out, "bytes_read", cc.bytes_read);
    stat(out, "bytes_written", cc.bytes_written);
    stat(out, "limit_maxbytes", s.max_bytes);
    stat(out, "accepting_conns", 1);
    // Worker threads (-t); with -t 1 the one loop is Node's own.
    stat(out, "threads", s.threads > 1 ? s.threads : 1);
    stat(out, "conn_yields", cc.conn_yields);
    stat(out, "hash_power_level", static_cast<uint64_t>(__builtin_ctzll(h_.store.buckets())));
    stat(out, "hash_bytes", h_.store.buckets() * sizeof(Item*));
    stat(out, "hash_is_expanding", h_.store.expanding() ? 1 : 0);
    stat(out, "bytes", h_.store.bytes());
    stat(out, "curr_items", h_.store.count());
    stat(out, "total_items", sc.total_items);
    stat(out, "expired_unfetched", sc.expired_unfetched);
    stat(out, "evicted_unfetched", sc.evicted_unfetched);
    stat(out, "evictions", sc.evictions);
    stat(out, "reclaimed", sc.reclaimed);
    stat(out, "crawler_reclaimed", sc.crawler_reclaimed);
    stat(out, "engine", "native");
  } else if (sub == "settings") {
    stat(out, "maxbytes", s.max_bytes);
    stat(out, "maxconns", s.max_connections);
    stat(out, "tcpport", h_.bound_port());
    stat(out, "udpport", 0);
    stat(out, "inter", s.listen);
    stat(out, "verbosity", static_cast<uint64_t>(s.log_level()));
    stat(out, "evictions", s.evictions ? "on" : "off");
    stat(out, "domain_socket", "NULL");
    stat(out, "shutdown_command", s.shutdown_enabled ? "yes" : "no");
    stat(out, "num_threads", s.threads);
    stat(out, "reqs_per_event", s.reqs_per_event);
    stat(out, "cas_enabled", s.cas_enabled ? "yes" : "no");
    stat(out, "binding_protocol", s.protocol == BindingProtocol::Auto ? "auto-negotiate" : s.protocol == BindingProtocol::Ascii ? "ascii" : "binary");
    stat(out, "auth_enabled_sasl", s.sasl ? "yes" : "no");
    stat(out, "auth_enabled_ascii", s.ascii_auth ? s.auth_file : std::string("no"));
    stat(out, "item_size_max", s.item_size_max);
    stat(out, "flush_enabled", s.flush_enabled ? "yes" : "no");
    stat(out, "eviction_policy", "sieve");
    stat(out, "engine", "native");
  } else if (sub == "items") {
    if (h_.store.count() > 0) {
      stat(out, "items:1:number", h_.store.count());
      stat(out, "items:1:evicted", sc.evictions);
      stat(out, "items:1:evicted_unfetched", sc.evicted_unfetched);
      stat(out, "items:1:expired_unfetched", sc.expired_unfetched);
      stat(out, "items:1:reclaimed", sc.reclaimed);
      stat(out, "items:1:crawler_reclaimed", sc.crawler_reclaimed);
    }
  } else if (sub == "slabs") {
    stat(out, "active_slabs", 0);
    stat(out, "total_malloced", h_.store.bytes());
  } else if (sub == "sizes") {
    stat(out, "sizes_status", "disabled");
  } else if (sub == "conns") {
    // memcached numbers connections by file descriptor; here the listener is 0, clients from 1.
    uint32_t now = now_seconds();
    std::string listen = "tcp:" + s.listen + ":" + std::to_string(h_.bound_port());
    stat(out, "0:addr", listen);
    stat(out, "0:state", "conn_listening");
    stat(out, "0:secs_since_last_cmd", now - h_.started_at);
    for (const ConnectionInfo& c : h_.open_connections()) {
      std::string id = std::to_string(c.id);
      stat(out, id + ":addr", c.addr);
      stat(out, id + ":listen_addr", listen);
      stat(out, id + ":state", c.state);
      stat(out, id + ":secs_since_last_cmd", now - c.last_command_at);
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace mcha

// memcached's command semantics over the store: a request (and its data block) in, reply
// bytes out. Knows nothing of sockets.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/auth/credentials.h"
#include "engine/commands/counters.h"
#include "engine/replica/mutation_log.h"
#include "protocol/binary.h"
#include "protocol/request.h"
#include "engine/settings.h"
#include "engine/store/clock.h"
#include "engine/store/store.h"
#include "engine/store/version_clock.h"
#include "protocol/reply_writer.h"

namespace mcha {

struct CommandHost {
  Settings& settings;
  Store& store;
  VersionClock& clock;
  uint32_t node_id;
  uint32_t started_at;
  std::function<uint32_t()> bound_port;
  std::function<std::vector<ConnectionInfo>()> open_connections;
  // The network layer's counts, summed over its threads, and `stats reset` of them.
  std::function<ConnectionCounters()> connection_counters;
  std::function<void()> reset_connection_counters;
  std::function<void(bool graceful)> shutdown;
  // This node's writes for the peer; nullptr on a standalone node.
  MutationLog* log = nullptr;
  // `stats replication` as the replication layer last rendered it (STAT lines); nullptr standalone.
  const std::string* replication_stats = nullptr;
  // Who -S and -Y let in.
  const Credentials* credentials = nullptr;
};

enum class Outcome { Continue, Close };

// What the connection does once a binary request is handled: memcached's connection state
// after dispatch_bin_command.
struct BinaryNext {
  enum What { Next, ReadValue, Swallow } what = Next;
  uint32_t swallow = 0;   // Swallow: bytes to throw away
  bool transmit = false;  // conn_mwrite: what was composed leaves now (a transmit point)
  bool close = false;     // close_after_write
  bool delay = false;     // a failed authentication: the reply waits kAuthFailureDelayMs
};

class Commands {
 public:
  explicit Commands(CommandHost host) : h_(std::move(host)) {}

  Outcome execute(const Request& req, Writer& out);
  // Before the data block is read: nullptr to read it into `*item`, or the error line to send
  // while it is swallowed (a failed `set` removes the old value, as in memcached).
  const char* admit_store(const Request& req, Item** item);
  // Once the data block is in: its value in the item, `terminated` if "\r\n" followed it.
  void complete_store(const Request& req, Item* item, bool terminated, Writer& out);

  // Meta commands (commands/meta.cc). ms goes through admit/complete like the text storage
  // commands: nullptr to read its block into `*item`, or the error line to send while it is
  // swallowed.
  void meta(const Request& req, Writer& out);
  const char* admit_meta_set(const Request& req, Item** item);
  void complete_meta_set(const Request& req, Item* item, bool terminated, Writer& out);

  // Binary protocol (commands/binary.cc). A request whose extras and key are in: ReadValue
  // to read its value_length() bytes into `*item` (then complete_binary), or what else to do.
  BinaryNext binary(const binary::Request& r, AuthState& auth, Item** item, Writer& out);
  BinaryNext complete_binary(const binary::Request& r, Item* item, AuthState& auth, Writer& out);
  // -Y: memcached's try_read_command_asciiauth once its `set` line and data are in.
  void ascii_auth(std::string_view user, std::string_view password, AuthState& auth, Writer& out, bool& delay);
  void count_auth(bool ok);

  const CommandCounters& counters() const { return c_; }
  // `stats` groups both protocols serve, and the metrics endpoint reads: each stat to `emit`;
  // false for a group not known. Under the store lock, as every command.
  bool stat_group(std::string_view sub, const std::function<void(std::string_view, std::string_view)>& emit);

 private:
  enum class Delta { Ok, NotFound, NonNumeric, CasMismatch, NoMemory };
  // memcached's do_add_delta for incr/decr and ma: the stored item in `*out` on Ok (not logged
  // yet), the new number in `digits`. A number that still fits, in an item no reply of this
  // connection holds since its last transmit point (memcached's refcount == 2), is rewritten in
  // place and keeps the item's meta state; `in_place` says which happened.
  Delta apply_delta(std::string_view key, bool incr, uint64_t delta, uint64_t cas_check, uint64_t cas_in, const Writer& replies, Item** out, std::string& digits, bool& in_place);
  // A copy of `old` under a new version (the same value unless `nvalue` differs), keeping its
  // flags, expiry, access time and the meta bits in `keep`; with `cas_in` as its CAS if non-zero.
  Item* rewrite(const Item* old, uint32_t nvalue, uint8_t keep, uint64_t cas_in);
  // What a store asks of do_store_item (commands/writes.cc), text, meta and binary alike; the
  // item's flags and expiry are set by the caller.
  struct StoreArgs {
    StoreOp op = StoreOp::Set;
    uint64_t cas = 0;             // the CAS to compare; 0: none
    bool stale_on_older = false;  // ms I: an older cas still stores, as a stale value (CAS_STALE)
    bool vivify = false;          // ms N: append and prepend create a missing item
    uint64_t cas_in = 0;          // ms E: the joined item's CAS; 0: the version
  };
  enum class Stored { Stored, Exists, NotFound, NotStored, NoMemory };
  struct StoreResult {
    Stored status;
    uint64_t cas;     // the stored item's, as replies show it; 0 when nothing was stored
    uint32_t nvalue;  // the stored item's value length, else the request's
  };
  // memcached's do_store_item. Takes over `item` (the creator's reference): links it, or the
  // joined item for append and prepend, or releases it.
  StoreResult store_item(const StoreArgs& a, Item* item, uint32_t now);
  // memcached's append/prepend result: a new item with `old`'s key, flags and expiry holding
  // both values in order (`append`: old first), with `cas_in` as its CAS if non-zero. Null when
  // it would pass -I or memory ran out.
  Item* join(const Item* old, const Item* added, bool append, uint64_t cas_in);
  // Makes `it` a new version written by this node.
  void stamp(Item* it);
  // memcached's exptime rules on this node's clock (absolute_expiry).
  uint32_t expiry(int32_t exptime, uint32_t now) const { return absolute_expiry(exptime, now, h_.started_at); }
  // What memcached shows as the seconds left of an expiry (t, and me's exp negated), as u32.
  static uint32_t ttl_left(uint32_t exptime, uint32_t now) { return exptime - now; }
  void meta_get(const MetaRequest& m, Writer& out);
  void meta_delete(const MetaRequest& m, Writer& out);
  void meta_arith(const MetaRequest& m, Writer& out);
  void meta_debug(const MetaRequest& m, Writer& out);

  void get(const Request& req, Writer& out);
  const char* arith(const Request& req, Writer& out);
  const char* remove(const Request& req);
  const char* touch(const Request& req);
  const char* flush_all(const Request& req);
  void stats(const Request& req, Writer& out);
  void touch_item(Item* it, uint32_t exptime);
  // flush_all's effect: everything now (due 0) or items stored before the absolute second `due`.
  void flush_items(uint32_t due, uint32_t now);
  // memcached's realtime() of a binary packet's unsigned expiry, as an absolute second.
  uint32_t binary_expiry(uint32_t exptime, uint32_t now) const;
  BinaryNext binary_get(const binary::Request& r, Writer& out);
  BinaryNext binary_store(const binary::Request& r, Item* item, Writer& out);
  BinaryNext binary_delta(const binary::Request& r, Writer& out);
  BinaryNext binary_delete(const binary::Request& r, Writer& out);
  BinaryNext binary_stat(const binary::Request& r, Writer& out);
  BinaryNext binary_sasl(const binary::Request& r, Item* data, AuthState& auth, Writer& out);
  bool check_plain(std::string_view msg) const;
  void reset_stats();
  void remove_stale(std::string_view key);

  CommandHost h_;
  CommandCounters c_;
};

}  // namespace mcha

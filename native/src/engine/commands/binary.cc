// memcached 1.6.18's binary protocol (proto_bin.c) over the store, through the writes the text
// and meta commands share (stamp, touch_item, remove_stale, apply_delta, flush_items), so binary
// writes replicate as theirs do. Replies are composed as memcached composes them: quiet forms
// say nothing on success (quiet gets nothing on a miss), errors always answer, and the points
// where memcached transmits (an error answered without a swallow, noop, quit, SASL continue)
// are returned to the connection as BinaryNext::transmit. Twin of
// src/engine/ts/commands/binary.ts.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/commands/execute.h"
#include "engine/store/clock.h"

namespace mcha {

using binary::Status;

namespace {

// write_bin_error with swallow 0: the reply leaves at once (conn_mwrite).
BinaryNext fail(Writer& out, const binary::Header& h, Status s, const char* message = nullptr) {
  binary::write_error(out, h, s, message);
  BinaryNext next;
  next.transmit = true;
  return next;
}

// An error after which the rest of the packet (`n` bytes) is thrown away; memcached's
// conn_swallow moves on without transmitting.
BinaryNext fail_swallow(Writer& out, const binary::Header& h, Status s, uint32_t n, const char* message = nullptr) {
  binary::write_error(out, h, s, message);
  BinaryNext next;
  next.what = BinaryNext::Swallow;
  next.swallow = n;
  return next;
}

// write_bin_error(..., swallow): swallowing when there is something to swallow, else conn_mwrite.
BinaryNext fail_unknown(Writer& out, const binary::Header& h, uint32_t n) {
  return n > 0 ? fail_swallow(out, h, Status::UnknownCommand, n) : fail(out, h, Status::UnknownCommand);
}

BinaryNext closing(BinaryNext next) {
  next.close = true;
  return next;
}

// write_bin_response: a header and the body, unless the command is quiet.
void respond(Writer& out, const binary::Request& r, uint64_t cas, std::string_view value = {}) {
  if (!r.quiet) binary::write_response(out, r.header, Status::Success, cas, {}, {}, value);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// PLAIN is the only mechanism offered.
constexpr const char* kSaslMechanisms = "PLAIN";

bool is_plain(std::string_view mech) {
  if (mech.size() != 5) return false;
  for (size_t i = 0; i < 5; i++) {
    if (toupper(static_cast<unsigned char>(mech[i])) != "PLAIN"[i]) return false;
  }
  return true;
}

}  // namespace

uint32_t Commands::binary_expiry(uint32_t exptime, uint32_t now) const {
  // The packet's expiry is unsigned: past 2^31 it is an absolute time far ahead, not a negative one.
  return exptime > 0x7fffffffu ? exptime : expiry(static_cast<int32_t>(exptime), now);
}

BinaryNext Commands::binary(const binary::Request& r, AuthState& auth, Item** item, Writer& out) {
  *item = nullptr;
  const binary::Header& h = r.header;
  if (!binary::frame_fits(h)) return closing(fail(out, h, Status::UnknownCommand));
  bool open_to_all = h.opcode == binary::kSaslListMechs || h.opcode == binary::kSaslAuth || h.opcode == binary::kSaslStep ||
                     h.opcode == binary::kVersion;
  if (h_.settings.sasl && !auth.authenticated && !open_to_all) return closing(fail(out, h, Status::AuthError));
  switch (binary::check_lengths(r)) {
    case binary::LengthVerdict::Ok: break;
    case binary::LengthVerdict::Unknown: return fail_unknown(out, h, h.bodylen);
    case binary::LengthVerdict::Key:
    case binary::LengthVerdict::Invalid: return closing(fail(out, h, Status::InvalidArguments));
  }
  BinaryNext next;
  const Settings& s = h_.settings;
  switch (r.command) {
    case binary::kVersion: respond(out, r, 0, s.version); break;
    case binary::kNoop:
      respond(out, r, 0);
      next.transmit = true;
      break;
    case binary::kQuit:
      respond(out, r, 0);
      next.transmit = next.close = true;
      break;
    case binary::kFlush: {
      // -F answers as an authentication error, uncounted.
      if (!s.flush_enabled) return fail(out, h, Status::AuthError);
      uint32_t now = now_seconds();
      c_.cmd_flush++;
      flush_items(r.exptime > 0 ? binary_expiry(r.exptime, now) : 0, now);
      respond(out, r, 0);
      break;
    }
    case binary::kGet:
    case binary::kGetK:
    case binary::kTouch:
    case binary::kGat:
    case binary::kGatK: return binary_get(r, out);
    case binary::kDelete: return binary_delete(r, out);
    case binary::kIncrement:
    case binary::kDecrement: return binary_delta(r, out);
    case binary::kStat: return binary_stat(r, out);
    case binary::kSet:
    case binary::kAdd:
    case binary::kReplace:
    case binary::kAppend:
    case binary::kPrepend: {
      bool joining = r.command == binary::kAppend || r.command == binary::kPrepend;
      uint32_t flags = joining ? 0 : r.flags;
      uint32_t vlen = r.value_length();
      // item_alloc refuses a value over -I (uncounted here, unlike text's store_too_large) and
      // a set that cannot be stored drops the old value.
      if (memcached_item_size(r.key.size(), flags, vlen, s.cas_enabled) > s.item_size_max) {
        if (r.command == binary::kSet) remove_stale(r.key);
        return fail_swallow(out, h, Status::TooLarge, vlen);
      }
      *item = h_.store.alloc(r.key, flags, 0, vlen);
      if (!*item) {
        if (r.command == binary::kSet) remove_stale(r.key);
        return fail_swallow(out, h, Status::OutOfMemory, vlen, "Out of memory allocating item");
      }
      next.what = BinaryNext::ReadValue;
      break;
    }
    case binary::kSaslListMechs:
      if (!s.sasl) return fail_unknown(out, h, h.bodylen - h.keylen);
      // memcached's init_sasl_conn: listing the mechanisms starts over, unauthenticated.
      auth.authenticated = false;
      respond(out, r, 0, kSaslMechanisms);
      break;
    case binary::kSaslAuth:
    case binary::kSaslStep: {
      if (!s.sasl) return fail_unknown(out, h, h.bodylen - h.keylen);
      uint32_t vlen = h.bodylen - h.keylen;
      if (r.key.size() > binary::kMaxSaslMechLength) return fail_swallow(out, h, Status::InvalidArguments, vlen);
      // The mechanism and its data are read into an item, as memcached does: too large, or
      // chunked, is out of memory.
      size_t limit = s.item_size_max < kSlabChunkMax ? s.item_size_max : kSlabChunkMax;
      if (memcached_item_size(r.key.size(), 0, vlen, s.cas_enabled) > limit ||
          !(*item = h_.store.alloc(r.key, 0, 0, vlen))) {
        return fail_swallow(out, h, Status::OutOfMemory, vlen);
      }
      next.what = BinaryNext::ReadValue;
      break;
    }
    default: break;  // check() knows no other
  }
  return next;
}

BinaryNext Commands::complete_binary(const binary::Request& r, Item* item, AuthState& auth, Writer& out) {
  if (r.command == binary::kSaslAuth || r.command == binary::kSaslStep) {
    BinaryNext next = binary_sasl(r, item, auth, out);
    h_.store.release(item);
    return next;
  }
  return binary_store(r, item, out);
}

BinaryNext Commands::binary_get(const binary::Request& r, Writer& out) {
  const binary::Header& h = r.header;
  bool touch = r.command == binary::kTouch || r.command == binary::kGat || r.command == binary::kGatK;
  bool with_key = r.command == binary::kGetK || r.command == binary::kGatK;
  bool with_value = r.command != binary::kTouch;
  uint32_t now = now_seconds();
  Item* it = h_.store.get(r.key, now);
  // Binary gets count as gets, touch and gat as touches only.
  if (touch) c_.cmd_touch++;
  else c_.cmd_get++;
  BinaryNext next;
  if (!it) {
    if (touch) c_.touch_misses++;
    else c_.get_misses++;
    if (r.quiet) return next;
    if (!with_key) return fail(out, h, Status::KeyNotFound);
    // getk's miss carries the key and no message, and does not transmit.
    binary::write_response(out, h, Status::KeyNotFound, 0, {}, r.key, {});
    return next;
  }
  if (touch) {
    c_.touch_hits++;
    touch_item(it, binary_expiry(r.exptime, now));
  } else {
    c_.get_hits++;
  }
  it->bits |= Item::kVisited | Item::kFetched;
  set_last_access(it, now);
  uint32_t nkey = with_key ? it->nkey : 0;
  uint32_t nvalue = with_value ? it->nvalue : 0;
  binary::write_header(out, h.opcode, Status::Success, 4, static_cast<uint16_t>(nkey), 4 + nkey + nvalue, h.opaque, it->cas(h_.settings.cas_enabled));
  char flags[4];
  binary::store_u32(flags, it->flags);
  out.text(flags, 4);
  if (with_key) out.text(it->key(), it->nkey);
  if (with_value) out.value_bytes(it);
  // memcached's reply holds the item until the connection next transmits (an incr meanwhile
  // cannot rewrite it in place).
  out.hold(it);
  return next;
}

BinaryNext Commands::binary_delete(const binary::Request& r, Writer& out) {
  Item* it = h_.store.get(r.key, now_seconds());
  if (!it) {
    c_.delete_misses++;
    return fail(out, r.header, Status::KeyNotFound);
  }
  uint64_t cas = r.header.cas;
  if (cas != 0 && cas != it->cas(h_.settings.cas_enabled)) return fail(out, r.header, Status::KeyExists);
  c_.delete_hits++;
  remove_stale(r.key);
  respond(out, r, 0);
  return BinaryNext();
}

BinaryNext Commands::binary_delta(const binary::Request& r, Writer& out) {
  const binary::Header& h = r.header;
  bool incr = r.command == binary::kIncrement;
  bool cas_enabled = h_.settings.cas_enabled;
  std::string digits;
  Item* it = nullptr;
  bool in_place = false;
  char number[8];
  switch (apply_delta(r.key, incr, r.delta, h.cas, 0, out, &it, digits, in_place)) {
    case Delta::Ok:
      if (h_.log) h_.log->set(it);
      binary::store_u64(number, strtoull(digits.c_str(), nullptr, 10));
      respond(out, r, it->cas(cas_enabled), std::string_view(number, 8));
      return BinaryNext();
    case Delta::NonNumeric: return fail(out, h, Status::NonNumeric);
    case Delta::NoMemory: return fail(out, h, Status::OutOfMemory, "Out of memory incrementing value");
    case Delta::CasMismatch: return fail(out, h, Status::KeyExists);
    case Delta::NotFound: break;
  }
  // An expiry of 0xffffffff asks for no initial value: only then is it a miss.
  if (r.exptime == binary::kNoAutovivify) {
    if (incr) c_.incr_misses++;
    else c_.decr_misses++;
    return fail(out, h, Status::KeyNotFound);
  }
  uint32_t now = now_seconds();
  digits = std::to_string(r.initial);
  Item* fresh = h_.store.alloc(r.key, 0, binary_expiry(r.exptime, now), static_cast<uint32_t>(digits.size()));
  if (!fresh) return fail(out, h, Status::OutOfMemory, "Out of memory allocating new item");
  memcpy(fresh->value(), digits.data(), digits.size());
  // Stored as an add: the miss above saw no item, and nothing came in between.
  stamp(fresh);
  if (!h_.store.put(fresh, now)) {
    h_.store.release(fresh);
    return fail(out, h, Status::NotStored);
  }
  if (h_.log) h_.log->set(fresh);
  binary::store_u64(number, r.initial);
  respond(out, r, fresh->cas(cas_enabled), std::string_view(number, 8));
  return BinaryNext();
}

BinaryNext Commands::binary_store(const binary::Request& r, Item* item, Writer& out) {
  const binary::Header& h = r.header;
  c_.cmd_set++;
  uint32_t now = now_seconds();
  StoreArgs a;
  switch (r.command) {
    case binary::kAdd: a.op = StoreOp::Add; break;
    case binary::kReplace: a.op = StoreOp::Replace; break;
    case binary::kAppend: a.op = StoreOp::Append; break;
    case binary::kPrepend: a.op = StoreOp::Prepend; break;
    default: break;
  }
  // A CAS makes set, add and replace memcached's NREAD_CAS; append and prepend compare it.
  // With -C items keep no CAS: the request's compares as none, and a set stays a set.
  a.cas = h_.settings.cas_enabled ? h.cas : 0;
  bool joining = a.op == StoreOp::Append || a.op == StoreOp::Prepend;
  if (a.cas != 0 && !joining) a.op = StoreOp::Cas;
  if (!joining) item->exptime = binary_expiry(r.exptime, now);
  StoreResult res = store_item(a, item, now);
  switch (res.status) {
    case Stored::Stored:
      respond(out, r, res.cas);
      return BinaryNext();
    case Stored::Exists: return fail(out, h, Status::KeyExists);
    case Stored::NotFound: return fail(out, h, Status::KeyNotFound);
    case Stored::NotStored:
    case Stored::NoMemory: break;
  }
  // complete_update_bin: a refused add is "exists", a refused replace "not found".
  return fail(out, h, a.op == StoreOp::Add ? Status::KeyExists : a.op == StoreOp::Replace ? Status::KeyNotFound : Status::NotStored);
}

BinaryNext Commands::binary_stat(const binary::Request& r, Writer& out) {
  uint32_t opaque = r.header.opaque;
  std::string_view sub = r.key;
  auto emit = [&out, opaque](std::string_view name, std::string_view value) { binary::write_stat(out, opaque, name, value); };
  // process_bin_stat matches reset, settings and detail as prefixes, the rest (get_stats) whole;
  // `stats conns` is text-only there.
  if (sub.empty()) {
    stat_group(sub, emit);
  } else if (starts_with(sub, "reset")) {
    reset_stats();
  } else if (starts_with(sub, "settings")) {
    stat_group("settings", emit);
  } else if (starts_with(sub, "detail")) {
    std::string_view mode = sub.substr(6);
    if (starts_with(mode, " dump")) emit("detailed", "END\r\n");
    else if (!starts_with(mode, " on") && !starts_with(mode, " off")) return fail(out, r.header, Status::KeyNotFound);
  } else if (sub == "conns" || !stat_group(sub, emit)) {
    return fail(out, r.header, Status::KeyNotFound);
  }
  emit({}, {});
  return BinaryNext();
}

void Commands::count_auth(bool ok) {
  c_.auth_cmds++;
  if (!ok) c_.auth_errors++;
}

// process_bin_complete_sasl_auth with PLAIN (authzid NUL user NUL password) as the only
// mechanism. Every attempt starts unauthenticated (init_sasl_conn); a failure is answered after
// the delay.
BinaryNext Commands::binary_sasl(const binary::Request& r, Item* data, AuthState& auth, Writer& out) {
  const binary::Header& h = r.header;
  std::string_view mech(data->key(), data->nkey);
  std::string_view msg(data->value(), data->nvalue);
  auth.authenticated = false;
  enum class Result { Ok, Continue, Fail } result;
  if (r.command == binary::kSaslAuth) {
    result = !is_plain(mech) ? Result::Fail : msg.empty() ? Result::Continue : check_plain(msg) ? Result::Ok : Result::Fail;
    auth.sasl_started = result == Result::Continue;
  } else {
    result = auth.sasl_started && !msg.empty() && check_plain(msg) ? Result::Ok : Result::Fail;
    auth.sasl_started = false;
  }
  BinaryNext next;
  switch (result) {
    case Result::Ok:
      auth.authenticated = true;
      count_auth(true);
      binary::write_response(out, h, Status::Success, 0, {}, {}, "Authenticated");
      return next;
    case Result::Continue:
      binary::write_header(out, h.opcode, Status::AuthContinue, 0, 0, 0, h.opaque, 0);
      next.transmit = true;
      return next;
    case Result::Fail: break;
  }
  count_auth(false);
  next = fail(out, h, Status::AuthError);
  next.delay = true;
  return next;
}

// PLAIN's message: the authorization id must be empty or the user's own.
bool Commands::check_plain(std::string_view msg) const {
  size_t a = msg.find('\0');
  size_t b = a == std::string_view::npos ? a : msg.find('\0', a + 1);
  if (b == std::string_view::npos) return false;
  std::string_view authzid = msg.substr(0, a);
  std::string_view user = msg.substr(a + 1, b - a - 1);
  std::string_view password = msg.substr(b + 1);
  if (!authzid.empty() && authzid != user) return false;
  return h_.credentials && h_.credentials->check(CredentialKind::Sasl, user, password);
}

void Commands::ascii_auth(std::string_view user, std::string_view password, AuthState& auth, Writer& out, bool& delay) {
  bool ok = h_.credentials && h_.credentials->check(CredentialKind::Ascii, user, password);
  count_auth(ok);
  delay = !ok;
  if (!ok) return out.line("CLIENT_ERROR authentication failure");
  auth.authenticated = true;
  out.line("STORED");
}

}  // namespace mcha

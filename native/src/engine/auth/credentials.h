// The users -S (SASL PLAIN over the binary protocol) and -Y (memcached's text-protocol
// authentication) accept, as TypeScript pushes them at start and on every SIGHUP
// (NativeEngine.setCredentials), and each connection's state towards them. Passwords are
// compared in constant time and never logged. Twin of src/engine/ts/auth/credentials.ts.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcha {

// A failed authentication holds the connection's reply this long (a libuv timer): guessing is
// bounded, the loop never blocks.
constexpr uint64_t kAuthFailureDelayMs = 500;
// memcached's SASL password check refuses a user and password longer than this together.
constexpr size_t kMaxSaslEntry = 256 - 4;

enum class CredentialKind { Sasl, Ascii };

class Credentials {
 public:
  // Replaces the list of one kind; connections already authenticated stay so.
  void set(CredentialKind kind, std::vector<std::pair<std::string, std::string>> users);
  // As memcached checks them (authfile_check for -Y, the MEMCACHED_SASL_PWDB callback for -S);
  // the password is compared over the longer of the two lengths, without an early exit.
  bool check(CredentialKind kind, std::string_view user, std::string_view password) const;

 private:
  std::vector<std::pair<std::string, std::string>> sasl_, ascii_;
};

// Constant time in max(a.size(), b.size()): every byte of the longer is read.
bool equal_in_constant_time(std::string_view a, std::string_view b);

// One connection's authentication: memcached's c->authenticated and c->sasl_started.
struct AuthState {
  bool authenticated = false;
  bool sasl_started = false;  // PLAIN began without the credentials: the next step carries them
};

}  // namespace mcha

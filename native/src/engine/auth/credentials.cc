#include "engine/auth/credentials.h"

namespace mcha {

void Credentials::set(CredentialKind kind, std::vector<std::pair<std::string, std::string>> users) {
  (kind == CredentialKind::Sasl ? sasl_ : ascii_) = std::move(users);
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; i++) {
    unsigned x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool Credentials::check(CredentialKind kind, std::string_view user, std::string_view password) const {
  if (kind == CredentialKind::Ascii) {
    // authfile_check: any entry with both.
    bool ok = false;
    for (const auto& [name, secret] : ascii_) ok |= name == user && equal_in_constant_time(secret, password);
    return ok;
  }
  // sasl_server_userdb_checkpass: longer entries than its 256-byte line buffer never match, and
  // the first line of the user decides.
  if (user.size() + password.size() > kMaxSaslEntry) return false;
  for (const auto& [name, secret] : sasl_) {
    if (name == user) return equal_in_constant_time(secret, password);
  }
  return false;
}

}  // namespace mcha

// username_map: the name FAC knows may differ from the local account name
// (alice@corp or CORP\alice logging in as alice). Only the name sent to FAC
// changes; the push's "account" field keeps the local name.
#pragma once

#include <string>

namespace pamfac {

std::string map_username(const std::string& user, bool strip_domain, bool lowercase);

}  // namespace pamfac

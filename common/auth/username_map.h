// username_map: the name FAC knows may differ from the local account name
// (alice@corp or CORP\alice logging in as alice). Only the name sent to FAC
// changes; the push's "account" field keeps the local name.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/login.h"

namespace pamfac {

// The steps of username_map in the order given; a name a file does not
// list passes that step unchanged.
std::string map_username(const std::string& user, const std::vector<UsernameMapStep>& steps);

// The person whose second factor is asked, before username_map: PAM_RUSER
// with fac_username = ruser when the program set it (su), else PAM_USER.
// Offline-grace records and rescue codes belong to this name.
const std::string& fac_subject(const Config& config, const LoginContext& login);

}  // namespace pamfac

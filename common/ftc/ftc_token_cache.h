// The FortiToken Cloud bearer token, kept in state_dir between logins so
// that each login does not pay for a /login round trip. Keyed by server
// and client id; a token is used only until shortly before it expires.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

#include "core/logger.h"
#include "core/secret.h"

namespace pamfac {

class FtcTokenCache {
public:
    FtcTokenCache(std::string state_dir, const std::string& server, const std::string& client_id, uid_t euid,
                  Logger& logger);

    std::optional<Secret> load(std::time_t now) const;
    void store(const Secret& token, std::time_t expires_at);
    void forget();

private:
    std::string dir_;
    std::string name_;
    uid_t euid_;
    Logger& logger_;
};

}  // namespace pamfac

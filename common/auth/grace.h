// grace_period: after a full success, the same user from the same remote
// host on the same service skips FAC until the period ends; without a remote
// host (su, sudo, the console) the requesting user and the terminal must be
// the same too. Records live in
// the root-only state_dir; each holds its full key, so a hash collision can
// never let one user's success stand for another's.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>

#include "core/logger.h"
#include "core/login.h"

namespace pamfac {

// Whose success a record stands for.
struct GraceKey {
    std::string user;
    std::string rhost;
    std::string service;
    std::string ruser;  // empty when rhost is set
    std::string tty;    // empty when rhost is set
};

// Without PAM_RHOST, user and service alone would let mallory's "su root" on
// pts/7 ride on alice's on pts/1: PAM_RUSER and PAM_TTY join the key.
GraceKey grace_key(const LoginContext& login);

class GraceRecords {
public:
    GraceRecords(std::string state_dir, uid_t euid, Logger& logger);

    // Seconds left of a grace period for this key (at most `period`), 0 when
    // there is none.
    long seconds_left(const GraceKey& key, std::time_t now, long period) const;
    // Records a success; removes expired records on the way.
    void remember(const GraceKey& key, std::time_t expires_at, std::time_t now);

private:
    std::string dir_;
    uid_t euid_;
    Logger& logger_;
};

}  // namespace pamfac

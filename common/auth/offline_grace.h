// offline_grace: each time FAC accepts a user's second factor, a record in
// state_dir notes when; while no server can be reached (and only then) a
// user accepted within offline_grace seconds may go on without FAC. One
// record per user (the name fac_subject gives), root-only, each holding its
// user, so a hash collision can never stand for another user.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>

#include "core/logger.h"

namespace pamfac {

class OfflineGrace {
public:
    OfflineGrace(std::string state_dir, uid_t euid, Logger& logger);

    // Seconds since FAC last accepted `user` on this host, when that is
    // within `grace`; -1 otherwise (no record, expired, or unusable state_dir).
    long accepted_within(const std::string& user, std::time_t now, long grace) const;
    // Records that FAC accepted `user` at `now`; removes expired records.
    void remember(const std::string& user, std::time_t now, long grace);

private:
    std::string dir_;
    uid_t euid_;
    Logger& logger_;
};

}  // namespace pamfac

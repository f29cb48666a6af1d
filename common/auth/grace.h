// grace_period: after a full success, the same user from the same remote
// host on the same service skips FAC until the period ends. Records live in
// the root-only state_dir; each holds its full key, so a hash collision can
// never let one user's success stand for another's.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>

#include "core/logger.h"

namespace pamfac {

class GraceRecords {
public:
    GraceRecords(std::string state_dir, uid_t euid, Logger& logger);

    // Seconds left of a grace period for this key (at most `period`), 0 when
    // there is none.
    long seconds_left(const std::string& user, const std::string& rhost, const std::string& service, std::time_t now,
                      long period) const;
    // Records a success; removes expired records on the way.
    void remember(const std::string& user, const std::string& rhost, const std::string& service, std::time_t expires_at,
                  std::time_t now);

private:
    std::string dir_;
    uid_t euid_;
    Logger& logger_;
};

}  // namespace pamfac

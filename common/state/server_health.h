// Health memory (state_dir): a server that just failed at connection level
// is tried last for server_retry_after seconds, so while the primary is down
// only the first login waits for it. Concurrent processes share it through
// atomically replaced files, one per server; a lost update costs at most one
// extra connection attempt.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "core/logger.h"

namespace pamfac {

class ServerHealth {
public:
    ServerHealth(std::string state_dir, long retry_after_seconds, uid_t euid, Logger& logger);

    // Healthy servers first, in configured order, then the recently failed
    // ones in the same order (so with all of them failed, all are tried).
    std::vector<std::string> order(const std::vector<std::string>& servers, std::time_t now);
    void mark_failed(const std::string& server, std::time_t now);
    void mark_healthy(const std::string& server);

private:
    std::string record_name(const std::string& server) const;
    bool usable();

    std::string dir_;
    long retry_after_;
    uid_t euid_;
    Logger& logger_;
    // Checked once per login; with autopush, check() and push() may ask
    // from two threads.
    std::once_flag checked_;
    bool usable_ = false;
};

}  // namespace pamfac

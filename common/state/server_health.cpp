#include "state/server_health.h"

#include <unistd.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "state/state_dir.h"

namespace pamfac {
ServerHealth::ServerHealth(std::string state_dir, long retry_after_seconds, uid_t euid, Logger& logger)
    : dir_(std::move(state_dir)), retry_after_(retry_after_seconds), euid_(euid), logger_(logger) {}

std::string ServerHealth::record_name(const std::string& server) const {
    return state_record_name("down-", server);
}

bool ServerHealth::usable() {
    std::call_once(checked_, [this] {
        const auto problem = prepare_state_dir(dir_, euid_);
        if (problem) {
            logger_.warning(problem->message + "; working without server health memory");
        }
        usable_ = !problem;
    });
    return usable_;
}

std::vector<std::string> ServerHealth::order(const std::vector<std::string>& servers, std::time_t now) {
    if (retry_after_ <= 0 || servers.size() < 2 || !usable()) {
        return servers;
    }
    std::vector<std::string> healthy;
    std::vector<std::string> failed;
    for (const std::string& server : servers) {
        bool recently_failed = false;
        if (const auto record = read_state_file(dir_, record_name(server), euid_)) {
            long long failed_at = 0;
            const std::string_view text = record->view();
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), failed_at);
            recently_failed = ec == std::errc() && now - failed_at < retry_after_ && failed_at <= now;
            (void)ptr;
        }
        (recently_failed ? failed : healthy).push_back(server);
    }
    if (!failed.empty()) {
        logger_.debug("health: " + std::to_string(failed.size()) + " server(s) failed in the last " +
                      std::to_string(retry_after_) + " s; trying them last");
    }
    healthy.insert(healthy.end(), failed.begin(), failed.end());
    return healthy;
}

void ServerHealth::mark_failed(const std::string& server, std::time_t now) {
    if (retry_after_ <= 0 || !usable()) {
        return;
    }
    if (auto problem = replace_state_file(dir_, record_name(server), std::to_string(static_cast<long long>(now)),
                                          Durability::Hint)) {
        logger_.warning(problem->message + "; server health not recorded");
    }
}

void ServerHealth::mark_healthy(const std::string& server) {
    if (retry_after_ <= 0 || !usable()) {
        return;
    }
    // Only a marked server has a record: the common case costs one failed unlink.
    ::unlink((dir_ + "/" + record_name(server)).c_str());
}

}  // namespace pamfac

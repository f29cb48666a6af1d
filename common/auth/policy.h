// Who needs FAC at all (pam_fac.conf(5)): trusted_networks and groups.
// Users skipped here get PAM_IGNORE, so the rest of the stack decides.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/login.h"

namespace pamfac {

// Local groups through the system's NSS; a fake in tests.
class GroupDirectory {
public:
    virtual ~GroupDirectory() = default;
    // Names of the user's primary and supplementary groups; nullopt when
    // the user has no local account.
    virtual std::optional<std::vector<std::string>> groups_of(const std::string& user) = 0;
    virtual bool group_exists(const std::string& group) = 0;
};

class NssGroupDirectory final : public GroupDirectory {
public:
    std::optional<std::vector<std::string>> groups_of(const std::string& user) override;
    bool group_exists(const std::string& group) override;
};

struct PolicyDecision {
    enum class Kind { Apply, Skip, Error } kind = Kind::Apply;
    std::string reason;
};

PolicyDecision decide_policy(const Config& config, const LoginContext& login, GroupDirectory& groups);

}  // namespace pamfac

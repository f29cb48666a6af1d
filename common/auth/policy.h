// Who needs FAC at all (pam_fac.conf(5)): trusted_networks and groups.
// Users skipped here get PAM_IGNORE, so the rest of the stack decides.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/login.h"

namespace pamfac {

// Local groups through the system's NSS; a fake in tests. Membership is
// decided on group ids: naming each of the user's groups would drop the ones
// NSS cannot name at that moment, and a dropped required group fails open.
class GroupDirectory {
public:
    virtual ~GroupDirectory() = default;
    // Ids of the user's primary and supplementary groups; nullopt when the
    // user has no local account.
    virtual std::optional<std::vector<gid_t>> group_ids_of(const std::string& user) = 0;
    // The id of a group name; nullopt when it does not resolve.
    virtual std::optional<gid_t> group_id(const std::string& group) = 0;
};

class NssGroupDirectory final : public GroupDirectory {
public:
    std::optional<std::vector<gid_t>> group_ids_of(const std::string& user) override;
    std::optional<gid_t> group_id(const std::string& group) override;
};

struct PolicyDecision {
    enum class Kind { Apply, Skip, Error } kind = Kind::Apply;
    std::string reason;
};

PolicyDecision decide_policy(const Config& config, const LoginContext& login, GroupDirectory& groups);

}  // namespace pamfac

// One authentication from start to end, as the module and facctl run it:
// policy (trusted_networks, groups), grace_period, then the Flow, then the
// grace record of a success. Knows nothing of PAM.
#pragma once

#include <sys/types.h>

#include "auth/flow.h"
#include "auth/policy.h"
#include "config/config.h"
#include "core/backend.h"
#include "core/conversation.h"
#include "core/logger.h"
#include "core/login.h"
#include "core/outcome.h"

namespace pamfac {

class Authenticator {
public:
    Authenticator(const Config& config, const LoginContext& login, Conversation& conversation, Backend& backend,
                  Logger& logger, GroupDirectory& groups, uid_t euid, Flow::WallClock wall_clock = nullptr);

    Outcome run();
    const Secret* prompted_password() const { return flow_.prompted_password(); }

private:
    const Config& config_;
    const LoginContext& login_;
    Logger& logger_;
    GroupDirectory& groups_;
    uid_t euid_;
    Flow::WallClock wall_clock_;
    Flow flow_;
};

}  // namespace pamfac

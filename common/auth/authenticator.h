// One authentication from start to end, as the module and facctl run it:
// policy (trusted_networks, groups), grace_period, then the Flow, then the
// grace and offline_grace records of a success. Knows nothing of PAM.
#pragma once

#include <sys/types.h>

#include "auth/flow.h"
#include "auth/offline_grace.h"
#include "auth/policy.h"
#include "config/config.h"
#include "core/backend.h"
#include "core/conversation.h"
#include "core/logger.h"
#include "core/login.h"
#include "core/outcome.h"
#include "state/rescue_store.h"

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
    OfflineGrace offline_grace_;
    RescueStore rescue_;
};

}  // namespace pamfac

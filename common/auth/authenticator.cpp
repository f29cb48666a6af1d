#include "auth/authenticator.h"

#include <chrono>
#include <ctime>
#include <utility>

#include "auth/grace.h"
#include "auth/username_map.h"
#include "core/clock.h"
#include "core/validate.h"

namespace pamfac {

Authenticator::Authenticator(const Config& config, const LoginContext& login, Conversation& conversation,
                             Backend& backend, Logger& logger, GroupDirectory& groups, uid_t euid,
                             Flow::WallClock wall_clock)
    : config_(config),
      login_(login),
      logger_(logger),
      groups_(groups),
      euid_(euid),
      wall_clock_(wall_clock),
      flow_(config, login, conversation, backend, logger, std::move(wall_clock)),
      offline_grace_(config.state_dir, euid, logger),
      rescue_(config.rescue_dir, euid) {
    flow_.set_offline_fallbacks(&offline_grace_, &rescue_);
}

Outcome Authenticator::run() {
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&start] { return elapsed_ms(start); };
    const std::time_t now = wall_clock_ ? wall_clock_() : std::time(nullptr);
    GraceRecords grace(config_.state_dir, euid_, logger_);

    // An invalid name is the flow's to refuse; policy needs a real one.
    if (is_valid_username(login_.user)) {
        const PolicyDecision policy = decide_policy(config_, login_, groups_);
        if (policy.kind != PolicyDecision::Kind::Apply) {
            Outcome skipped;
            skipped.status = policy.kind == PolicyDecision::Kind::Skip ? Status::Ignore : Status::ServiceErr;
            skipped.reason = policy.reason;
            skipped.elapsed_ms = elapsed();
            return skipped;
        }
        if (config_.grace_period_s > 0) {
            if (const long left = grace.seconds_left(grace_key(login_), now, config_.grace_period_s); left > 0) {
                Outcome skipped;
                skipped.status = Status::Ignore;
                skipped.reason = "within grace_period (" + std::to_string(left) + " s left)";
                skipped.elapsed_ms = elapsed();
                return skipped;
            }
        }
    }
    Outcome outcome = flow_.run();
    if (outcome.status == Status::Success && config_.grace_period_s > 0) {
        grace.remember(grace_key(login_), now + config_.grace_period_s, now);
    }
    if (config_.offline_grace_s > 0 && flow_.fac_accepted_second_factor()) {
        offline_grace_.remember(fac_subject(config_, login_), now, config_.offline_grace_s);
    }
    outcome.elapsed_ms = elapsed();
    return outcome;
}

}  // namespace pamfac

// libFuzzer target: one whole authentication (Authenticator, hence policy,
// the Flow and its tries, push, failmode) over a scripted user and a
// scripted backend: every config variant of the keys that decide the door,
// every order of answers a user could type, every sequence of verdicts the
// FAC and FTC clients can return.
//
// Properties, the ones that keep the door:
// - success only right after the backend accepted (no grace, no rescue
//   codes, no trusted network are configured here);
// - PAM_IGNORE only with failmode = safe, right after an outage, in a login
//   where no push may have reached the phone;
// - never more codes or pushes than `tries` (nor password checks);
// - a code the backend rejected is never sent again.
// autopush is left out: its settling wait (half a second) would make each
// run slow, and its decisions are the same Flow code paths.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../unit/fakes.h"
#include "auth/authenticator.h"
#include "auth/policy.h"
#include "config/config.h"
#include "core/backend.h"
#include "core/conversation.h"
#include "core/logger.h"
#include "core/login.h"
#include "core/outcome.h"
#include "fuzz_check.h"

using fuzzcheck::require;
using pamfac::Verdict;

namespace {

constexpr Verdict kVerdicts[] = {
    Verdict::Accepted,         Verdict::AcceptedPasswordChange,
    Verdict::WrongCredentials, Verdict::AccountDisabled,
    Verdict::NoToken,          Verdict::TokenOutOfSync,
    Verdict::UnknownUser,      Verdict::PushRejected,
    Verdict::PushTimedOut,     Verdict::PushNotSent,
    Verdict::PushUnavailable,  Verdict::PushAbandoned,
    Verdict::Outage,           Verdict::NotUnderstood,
    Verdict::LocalFailure,     Verdict::PushLost,
    Verdict::TlsFailure,       Verdict::ApiCredentialsRejected,
    Verdict::BadRequest,
};

// A push answered so is known not to have reached the user's phone.
bool push_not_sent(Verdict v) {
    switch (v) {
    case Verdict::Outage:
    case Verdict::PushNotSent:
    case Verdict::PushUnavailable:
    case Verdict::UnknownUser:
    case Verdict::NoToken:
    case Verdict::AccountDisabled:
    case Verdict::TlsFailure:
    case Verdict::LocalFailure:
    case Verdict::ApiCredentialsRejected:
    case Verdict::BadRequest:
        return true;
    default:
        return false;
    }
}

bool accepted(Verdict v) {
    return v == Verdict::Accepted || v == Verdict::AcceptedPasswordChange;
}

struct NullLogger final : pamfac::Logger {
    void emit(pamfac::LogLevel /*level*/, const std::string& /*message*/) override {}
};

struct NoGroups final : pamfac::GroupDirectory {
    std::optional<std::vector<gid_t>> group_ids_of(const std::string& /*user*/) override { return std::nullopt; }
    std::optional<gid_t> group_id(const std::string& /*group*/) override { return std::nullopt; }
};

struct ScriptedUser final : pamfac::Conversation {
    std::deque<std::optional<std::string>> answers;  // nullopt: the conversation fails

    bool ask(const std::string& /*prompt*/, bool /*echo*/, pamfac::Secret& answer) override {
        if (answers.empty() || !answers.front()) {
            return false;
        }
        answer.assign(*answers.front());
        answers.pop_front();
        return true;
    }
    void info(const std::string& /*message*/) override {}
    void error(const std::string& /*message*/) override {}
};

struct ScriptedBackend final : pamfac::Backend {
    std::deque<Verdict> verdicts;  // exhausted: an outage
    std::vector<Verdict> given;
    std::set<std::string> rejected_codes;
    bool resent_rejected_code = false;
    std::vector<std::string> sent;  // codes, and pushes as "(push)", in order
    int pushes_sent = 0;            // pushes that may have reached the phone
    int second_factor_requests = 0;
    int password_checks = 0;  // the password alone, before the second factor

    pamfac::BackendResult check(const pamfac::CodeCheck& c) override {
        std::string code;
        if (c.code != nullptr) {
            code = std::string(c.code->view());
        } else if (c.concatenated && c.password != nullptr) {
            code = std::string(c.password->view());  // password and code in one field
        }
        resent_rejected_code = resent_rejected_code || (!code.empty() && rejected_codes.count(code) != 0);
        sent.push_back(code.empty() ? "(password)" : code);
        const bool password_alone = c.password != nullptr && c.code == nullptr && !c.concatenated;
        ++(password_alone ? password_checks : second_factor_requests);
        const Verdict v = next();
        if (v == Verdict::WrongCredentials && !code.empty()) {
            rejected_codes.insert(code);
        }
        return pamfac::BackendResult{v, "fac1.example", "scripted"};
    }
    pamfac::BackendResult push(const pamfac::PushFields& /*fields*/, pamfac::CancelToken* /*cancel*/) override {
        sent.emplace_back("(push)");
        const Verdict v = next();
        pushes_sent += push_not_sent(v) ? 0 : 1;
        // A push FAC could not send falls back to a code within the same try.
        second_factor_requests += v == Verdict::PushNotSent || v == Verdict::PushUnavailable ? 0 : 1;
        return pamfac::BackendResult{v, "fac1.example", "scripted"};
    }

private:
    Verdict next() {
        const Verdict v = verdicts.empty() ? Verdict::Outage : verdicts.front();
        if (!verdicts.empty()) {
            verdicts.pop_front();
        }
        given.push_back(v);
        return v;
    }
};

std::string state_dir() {
    static const std::string dir = [] {
        const char* tmp = getenv("TMPDIR");  // run_fuzz.sh points it into the work directory
        std::string name = std::string(tmp != nullptr ? tmp : "/tmp") + "/pamfac-fuzz-flow-XXXXXX";
        return std::string(mkdtemp(name.data()) != nullptr ? name : "/nonexistent");
    }();
    return dir;
}

std::optional<std::string> answer_from(FuzzedDataProvider& in) {
    static const char* const kCodes[] = {"123456", "654321", "12345678", "000000"};
    switch (in.ConsumeIntegralInRange<int>(0, 6)) {
    case 0:
    case 1:
        return std::string(kCodes[in.ConsumeIntegralInRange<int>(0, 3)]);
    case 2:
        return std::string();  // Enter: a push where one may be asked for
    case 3:
        return std::string("alice-pw");
    case 4:
        return std::string("alice-pw") + kCodes[in.ConsumeIntegralInRange<int>(0, 3)];
    case 5:
        return in.ConsumeRandomLengthString(40);
    default:
        return std::nullopt;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    pamfac::Config config;
    config.state_dir = state_dir();
    config.rescue_dir = state_dir();
    config.password = in.ConsumeBool();
    static constexpr pamfac::SecondFactor kFactors[] = {pamfac::SecondFactor::Code, pamfac::SecondFactor::Push,
                                                        pamfac::SecondFactor::CodeOrPush, pamfac::SecondFactor::None};
    config.second_factor = kFactors[in.ConsumeIntegralInRange<int>(0, config.password ? 3 : 2)];
    config.otp_append = config.password && config.second_factor == pamfac::SecondFactor::Code && in.ConsumeBool();
    config.tries = in.ConsumeIntegralInRange<int>(1, 5);
    config.failmode = in.ConsumeBool() ? pamfac::FailMode::Safe : pamfac::FailMode::Secure;
    config.unknown_user = in.ConsumeBool() ? pamfac::UnknownUserPolicy::Ignore : pamfac::UnknownUserPolicy::Deny;
    static constexpr pamfac::RescueMode kRescue[] = {pamfac::RescueMode::Offline, pamfac::RescueMode::Yes,
                                                     pamfac::RescueMode::No};
    config.rescue_codes = kRescue[in.ConsumeIntegralInRange<int>(0, 2)];
    config.push_timeout_ms = 1000;

    ScriptedUser user;
    ScriptedBackend backend;
    const std::size_t answers = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < answers; ++i) {
        user.answers.push_back(answer_from(in));
    }
    while (in.remaining_bytes() > 0 && backend.verdicts.size() < 16) {
        backend.verdicts.push_back(in.PickValueInArray(kVerdicts));
    }

    const pamfac::LoginContext login = pamfac::testing::sample_login();
    NullLogger logger;
    NoGroups groups;
    pamfac::Authenticator authenticator(config, login, user, backend, logger, groups, geteuid());
    const pamfac::Outcome outcome = authenticator.run();

    const auto check = [&](bool condition, const char* property) {
        if (!condition) {
            std::fprintf(stderr, "password=%d second_factor=%s otp_append=%d tries=%d failmode=%s status=%s\n",
                         config.password, pamfac::second_factor_name(config.second_factor), config.otp_append,
                         config.tries, config.failmode == pamfac::FailMode::Safe ? "safe" : "secure",
                         pamfac::pam_code_name(outcome.status));
            for (std::size_t i = 0; i < backend.given.size(); ++i) {
                std::fprintf(stderr, "  sent %s, backend answered %s\n", backend.sent[i].c_str(),
                             pamfac::verdict_name(backend.given[i]));
            }
        }
        require(condition, property);
    };
    check(!backend.resent_rejected_code, "a rejected code is never sent again");
    const bool last_accepted = !backend.given.empty() && accepted(backend.given.back());
    const bool last_outage = !backend.given.empty() && backend.given.back() == Verdict::Outage;
    check(outcome.status != pamfac::Status::Success || last_accepted, "success only right after FAC's yes");
    check(outcome.status != pamfac::Status::Ignore ||
              (config.failmode == pamfac::FailMode::Safe && last_outage && backend.pushes_sent == 0) ||
              (config.unknown_user == pamfac::UnknownUserPolicy::Ignore && !backend.given.empty() &&
               backend.given.back() == Verdict::UnknownUser),
          "PAM_IGNORE only after an outage with failmode = safe and no push, or an unknown user with "
          "unknown_user = ignore");
    check(backend.second_factor_requests <= config.tries && backend.password_checks <= config.tries,
          "never more codes or pushes than tries, nor more password checks");
    return 0;
}

#include "auth/flow.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "auth/push_fields.h"
#include "auth/rescue_codes.h"
#include "auth/username_map.h"
#include "core/clock.h"
#include "core/text.h"
#include "core/validate.h"

namespace pamfac {
namespace {

namespace msg {
constexpr const char* kBadCodeFormat = "A FortiToken code is 6 to 8 digits.";
constexpr const char* kBadAppendedAnswer = "Enter your password followed by your FortiToken code.";
constexpr const char* kWrongCode = "Incorrect code.";
constexpr const char* kWrongPasswordOrCode = "Incorrect password or code.";
constexpr const char* kWrongPassword = "Incorrect password.";
constexpr const char* kDisabled = "Your account is disabled. Contact your administrator.";
constexpr const char* kNoToken = "No FortiToken is assigned to your account. Contact your administrator.";
constexpr const char* kOutOfSync = "Your FortiToken is out of sync. Ask your administrator to resynchronise it.";
constexpr const char* kPushRejected = "The push was rejected.";
constexpr const char* kPushTimedOut = "The push was not approved in time.";
constexpr const char* kPushNotSent = "The push could not be sent.";
constexpr const char* kPushNotSentUseCode = "The push could not be sent. Enter a code instead.";
constexpr const char* kPushUnavailable = "Push is not set up for your account.";
constexpr const char* kPushUnavailableUseCode = "Push is not set up for your account. Enter a code instead.";
constexpr const char* kUnavailable = "The authentication server cannot be reached. Try again later.";
constexpr const char* kPasswordTooLong = "That password is too long.";
constexpr const char* kPasswordChange = "FortiAuthenticator requires you to change your password.";
constexpr const char* kFailed = "Authentication failed.";
constexpr const char* kRescueOnlyOffline =
    "Rescue codes work only while FortiAuthenticator cannot be reached. Enter a FortiToken code.";
constexpr const char* kWrongRescue = "Incorrect rescue code.";
constexpr const char* kNotRescue = "That is not a rescue code.";
constexpr const char* kUnavailableRescue = "The authentication server cannot be reached. Enter a rescue code.";
}  // namespace msg

// How long the autopush prompt waits for the push request's first answer:
// a server that refuses or cannot take the push does so within a few round
// trips, and the prompt must not say "Push sent" when it already knows better.
// FAC holds a push that went out until the phone answers, so a healthy login
// waits this long once.
constexpr std::chrono::milliseconds kPushSendWindow{500};

// Whether a finished autopush still lets the prompt say a push is out: the
// phone answered (or the push was lost after it left), and the next answer
// settles it. Not sent, or expired: the prompt asks for a code instead.
bool push_is_out(Verdict v) {
    return v == Verdict::Accepted || v == Verdict::AcceptedPasswordChange || v == Verdict::PushRejected ||
           v == Verdict::PushLost;
}

bool accepted(Verdict v) {
    return v == Verdict::Accepted || v == Verdict::AcceptedPasswordChange;
}

std::string seconds_text(long ms) {
    const long seconds = (ms + 999) / 1000;
    return std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
}

}  // namespace

Flow::Flow(const Config& config, const LoginContext& login, Conversation& conversation, Backend& backend,
           Logger& logger, WallClock wall_clock)
    : config_(config),
      login_(login),
      conversation_(conversation),
      backend_(backend),
      logger_(logger),
      wall_clock_(std::move(wall_clock)) {}

Outcome Flow::run() {
    const auto start = std::chrono::steady_clock::now();
    const Stop stop = [this]() -> Stop {
        const std::string& subject = fac_subject(config_, login_);
        fac_user_ = map_username(subject, config_.username_map);
        if (!is_valid_username(login_.user) || !is_valid_username(subject) || !is_valid_username(fac_user_)) {
            const Status s = config_.unknown_user == UnknownUserPolicy::Ignore ? Status::Ignore : Status::UserUnknown;
            return Stop{s,
                        "invalid username (empty, over 253 bytes, not UTF-8, or control characters); "
                        "FAC not contacted"};
        }
        if (!config_.tls_verify) {
            logger_.warning(
                "tls_verify = no: FAC's certificate is not checked, so anyone on the network path "
                "can impersonate it; set tls_verify = yes and ca_file");
        }
        if (config_.otp_append) {
            return run_otp_append();
        }
        if (config_.password) {
            if (auto password_stop = obtain_password(prompts::kPassword)) {
                return *password_stop;
            }
        }
        switch (config_.second_factor) {
        case SecondFactor::None:
            return run_password_only();
        case SecondFactor::Push:
            return run_push_only();
        case SecondFactor::Code:
        case SecondFactor::CodeOrPush:
            break;
        }
        return run_code_loop();
    }();
    fac_accepted_second_factor_ = stop.status == Status::Success && method_ != "password" && method_ != "rescue";
    Outcome outcome;
    outcome.status = stop.status;
    outcome.reason = stop.reason;
    outcome.degraded = stop.degraded;
    outcome.method = method_;
    outcome.server = server_;
    if (fac_user_ != login_.user) {
        outcome.fac_user = fac_user_;
    }
    outcome.elapsed_ms = elapsed_ms(start);
    return outcome;
}

std::optional<Flow::Stop> Flow::obtain_password(const char* prompt) {
    const bool have_authtok = login_.authtok != nullptr && login_.authtok[0] != '\0';
    if (config_.authtok_source == AuthtokSource::UseFirstPass && !have_authtok) {
        return Stop{Status::AuthErr, "use_first_pass is set but no earlier module left a password (PAM_AUTHTOK)"};
    }
    if (config_.authtok_source != AuthtokSource::Prompt && have_authtok) {
        password_.assign(login_.authtok);
        if (password_.size() > kMaxPasswordBytes) {
            return Stop{Status::AuthErr, "password from PAM_AUTHTOK longer than 512 bytes; not sent"};
        }
        have_password_ = true;
        return std::nullopt;
    }
    if (!conversation_.ask(prompt, false, password_)) {
        return Stop{Status::ConvErr, "conversation failed while asking for the password"};
    }
    prompted_password_ = true;
    if (password_.size() > kMaxPasswordBytes) {
        conversation_.error(msg::kPasswordTooLong);
        return Stop{Status::AuthErr, "password longer than 512 bytes; not sent"};
    }
    have_password_ = true;
    return std::nullopt;
}

void Flow::note_server(const BackendResult& result) {
    if (!result.server.empty()) {
        server_ = result.server;
    }
}

Flow::Stop Flow::run_otp_append() {
    method_ = "otp_append";
    const bool have_authtok = login_.authtok != nullptr && login_.authtok[0] != '\0';
    if (config_.authtok_source == AuthtokSource::UseFirstPass && !have_authtok) {
        return Stop{Status::AuthErr, "use_first_pass is set but no earlier module left a password (PAM_AUTHTOK)"};
    }
    std::string last_problem;
    for (int attempt = 1; attempt <= config_.tries; ++attempt) {
        Secret answer;
        if (attempt == 1 && config_.authtok_source != AuthtokSource::Prompt && have_authtok) {
            answer.assign(login_.authtok);
        } else if (config_.authtok_source == AuthtokSource::UseFirstPass) {
            break;  // the earlier module's answer was the only one allowed
        } else if (!conversation_.ask(prompts::kPasswordAndCode, false, answer)) {
            return Stop{Status::ConvErr, "conversation failed while asking for the password and code"};
        }
        if (!appended_answer_fits(answer.view())) {
            conversation_.error(msg::kPasswordTooLong);
            return Stop{Status::AuthErr, "answer longer than 520 bytes (password 512, code 8); not sent"};
        }
        if (!ends_with_code(answer.view())) {
            conversation_.error(msg::kBadAppendedAnswer);
            last_problem = "answer does not end with a 6 to 8 digit code; not sent";
            continue;
        }
        if (repeats_rejected(answer)) {
            conversation_.error(msg::kWrongPasswordOrCode);
            last_problem = "the rejected answer was given again; not sent twice";
            continue;
        }
        const BackendResult result = backend_.check(CodeCheck{&fac_user_, &answer, nullptr, true});
        note_server(result);
        if (result.verdict == Verdict::WrongCredentials) {
            conversation_.error(msg::kWrongPasswordOrCode);
            last_problem = "wrong password or code";
            rejected_.emplace_back(answer.view());
            continue;
        }
        return from_verdict(result);
    }
    return wrong_credentials_exhausted(last_problem);
}

Flow::Stop Flow::run_password_only() {
    method_ = "password";
    const BackendResult result = backend_.check(CodeCheck{&fac_user_, &password_, nullptr, false});
    note_server(result);
    if (result.verdict == Verdict::WrongCredentials) {
        conversation_.error(msg::kWrongPassword);
        return Stop{Status::AuthErr, "wrong password"};
    }
    return from_verdict(result);
}

Flow::Stop Flow::run_push_only() {
    // Without a code to fall back to, run_push always ends the flow.
    return run_push(false).value_or(Stop{Status::AuthErr, "push not available"});
}

Flow::Stop Flow::run_code_loop() {
    bool push_offered = config_.second_factor == SecondFactor::CodeOrPush;
    std::unique_ptr<BackgroundPush> autopush;
    if (push_offered && config_.autopush) {
        if (auto stop = start_autopush(autopush)) {
            return *stop;
        }
    }
    std::string last_problem;
    int attempt = 0;
    while (attempt < config_.tries) {
        if (autopush) {
            // A push that already ended unanswered is not "sent" any more:
            // the user is told, and asked for a code.
            std::optional<BackendResult> done = autopush->result_if_done();
            if (done && !push_is_out(done->verdict)) {
                autopush.reset();
                push_offered = false;
                const bool timed_out = done->verdict == Verdict::PushTimedOut;
                if (auto stop = settle_autopush(*done, !timed_out)) {
                    return *stop;
                }
            }
        }
        Secret answer;
        const char* prompt = autopush ? prompts::kPushSent : push_offered ? prompts::kCodeOrPush : prompts::kCode;
        if (!conversation_.ask(prompt, config_.echo_code, answer)) {
            return Stop{Status::ConvErr, "conversation failed while asking for the code"};
        }
        if (autopush) {
            // Whichever finished first decides: a push answered while the
            // user was at the prompt wins over what they typed.
            std::optional<BackendResult> done = autopush->result_if_done();
            if (!done && answer.empty()) {
                done = autopush->wait();
            }
            if (done) {
                autopush.reset();
                push_offered = false;
                if (auto stop = settle_autopush(*done, answer.empty())) {
                    return *stop;
                }
                if (answer.empty()) {
                    continue;  // the push could not be used: ask for a code, no try spent
                }
            }
        }
        if (answer.empty() && push_offered) {
            if (auto stop = run_push(true)) {
                return *stop;
            }
            push_offered = false;  // a push that could not be sent costs the user no try
            continue;
        }
        ++attempt;
        std::optional<Stop> rescued;
        if (handle_rescue_answer(answer, rescued, last_problem)) {
            if (rescued) {
                return *rescued;
            }
            continue;
        }
        if (!is_valid_code(answer.view())) {
            conversation_.error(msg::kBadCodeFormat);
            last_problem = "code is not 6 to 8 digits; not sent";
            continue;
        }
        if (repeats_rejected(answer)) {
            conversation_.error(have_password_ ? msg::kWrongPasswordOrCode : msg::kWrongCode);
            last_problem = "the rejected code was given again; not sent twice";
            continue;
        }
        method_ = have_password_ ? "password+code" : "code";
        const BackendResult result =
            backend_.check(CodeCheck{&fac_user_, have_password_ ? &password_ : nullptr, &answer, false});
        note_server(result);
        if (result.verdict == Verdict::WrongCredentials) {
            conversation_.error(have_password_ ? msg::kWrongPasswordOrCode : msg::kWrongCode);
            last_problem = have_password_ ? "wrong password or code" : "wrong code";
            rejected_.emplace_back(answer.view());
            continue;  // an autopush still in flight may yet be approved
        }
        return from_verdict(result);  // ends the flow; an autopush in flight is abandoned
    }
    return wrong_credentials_exhausted(last_problem);
}

std::optional<Flow::Stop> Flow::start_autopush(std::unique_ptr<BackgroundPush>& push) {
    bool password_change = false;
    if (auto stop = check_password_before_push(password_change)) {
        return stop;
    }
    try {
        push = std::make_unique<BackgroundPush>(backend_, push_fields());
        push->wait_for(kPushSendWindow);
    } catch (const std::system_error& e) {
        logger_.warning(std::string("autopush: no thread for the push (") + e.what() +
                        "); pressing Enter sends one instead");
    }
    return std::nullopt;
}

std::optional<Flow::Stop> Flow::settle_autopush(const BackendResult& result, bool user_pressed_enter) {
    note_server(result);
    switch (result.verdict) {
    case Verdict::Accepted:
        method_ = have_password_ ? "password+push" : "push";
        return Stop{Status::Success, ""};
    case Verdict::PushRejected:
        method_ = have_password_ ? "password+push" : "push";
        return from_verdict(result);
    case Verdict::PushTimedOut:
        if (user_pressed_enter) {
            method_ = have_password_ ? "password+push" : "push";
            return from_verdict(result);
        }
        return std::nullopt;
    case Verdict::PushNotSent:
    case Verdict::PushUnavailable:
        if (user_pressed_enter) {
            conversation_.error(result.verdict == Verdict::PushNotSent ? msg::kPushNotSentUseCode
                                                                       : msg::kPushUnavailableUseCode);
        }
        logger_.debug("autopush could not be used: " + result.detail);
        return std::nullopt;
    case Verdict::PushAbandoned:
        return std::nullopt;
    default:
        method_ = have_password_ ? "password+push" : "push";
        return from_verdict(result);
    }
}

std::optional<Flow::Stop> Flow::check_password_before_push(bool& password_change) {
    if (!have_password_) {
        return std::nullopt;
    }
    // /pushauth/ takes no password: check it on its own first.
    const BackendResult result = backend_.check(CodeCheck{&fac_user_, &password_, nullptr, false});
    note_server(result);
    if (result.verdict == Verdict::WrongCredentials) {
        method_ = "password";
        conversation_.error(msg::kWrongPassword);
        return Stop{Status::AuthErr, "wrong password"};
    }
    if (!accepted(result.verdict)) {
        method_ = "password";
        return from_verdict(result);
    }
    password_change = result.verdict == Verdict::AcceptedPasswordChange;
    return std::nullopt;
}

PushFields Flow::push_fields() const {
    const std::time_t now = wall_clock_ ? wall_clock_() : std::time(nullptr);
    return make_push_fields(login_, fac_user_, config_.push_message, config_.user_agent, now);
}

std::optional<Flow::Stop> Flow::run_push(bool code_fallback_allowed) {
    method_ = have_password_ ? "password+push" : "push";
    bool password_change = false;
    if (auto stop = check_password_before_push(password_change)) {
        return stop;
    }
    conversation_.info("Sending a push to FortiToken Mobile: approve it within " +
                       seconds_text(config_.push_timeout_ms) + ".");
    const BackendResult result = backend_.push(push_fields(), nullptr);
    note_server(result);
    switch (result.verdict) {
    case Verdict::Accepted:
        if (password_change) {
            conversation_.info(msg::kPasswordChange);
        }
        return Stop{Status::Success, ""};
    case Verdict::PushNotSent:
    case Verdict::PushUnavailable:
        if (code_fallback_allowed) {
            const bool not_sent = result.verdict == Verdict::PushNotSent;
            conversation_.error(not_sent ? msg::kPushNotSentUseCode : msg::kPushUnavailableUseCode);
            logger_.debug("push fell back to a code: " + result.detail);
            return std::nullopt;
        }
        break;
    default:
        break;
    }
    return from_verdict(result);
}

bool Flow::repeats_rejected(const Secret& answer) const {
    return std::any_of(rejected_.begin(), rejected_.end(),
                       [&answer](const Secret& rejected) { return rejected.view() == answer.view(); });
}

Flow::Stop Flow::wrong_credentials_exhausted(const std::string& what) {
    const std::string tries = std::to_string(config_.tries);
    return Stop{Status::AuthErr, what + " (" + tries + " of " + tries + " tries used)"};
}

Flow::Stop Flow::from_verdict(const BackendResult& result) {
    const std::string& detail = result.detail;
    switch (result.verdict) {
    case Verdict::Accepted:
        return Stop{Status::Success, ""};
    case Verdict::AcceptedPasswordChange:
        conversation_.info(msg::kPasswordChange);
        return Stop{Status::Success, detail};
    case Verdict::WrongCredentials:
        conversation_.error(msg::kWrongPassword);
        return Stop{Status::AuthErr, "wrong password"};
    case Verdict::AccountDisabled:
        conversation_.error(msg::kDisabled);
        return Stop{Status::AuthErr, detail};
    case Verdict::NoToken:
        conversation_.error(msg::kNoToken);
        return Stop{Status::AuthErr, detail};
    case Verdict::TokenOutOfSync:
        conversation_.error(msg::kOutOfSync);
        return Stop{Status::AuthErr, detail};
    case Verdict::UnknownUser:
        if (config_.unknown_user == UnknownUserPolicy::Ignore) {
            return Stop{Status::Ignore, detail + "; unknown_user = ignore lets the other modules decide"};
        }
        return Stop{Status::UserUnknown, detail};
    case Verdict::PushRejected:
        conversation_.error(msg::kPushRejected);
        return Stop{Status::AuthErr, detail};
    case Verdict::PushTimedOut:
        conversation_.error(msg::kPushTimedOut);
        return Stop{Status::AuthErr, detail};
    case Verdict::PushNotSent:
        conversation_.error(msg::kPushNotSent);
        return Stop{Status::AuthinfoUnavail, detail};
    case Verdict::PushUnavailable:
        conversation_.error(msg::kPushUnavailable);
        return Stop{Status::AuthErr, detail};
    case Verdict::PushAbandoned:
        return Stop{Status::AuthErr, detail};
    case Verdict::Outage:
        return outage_stop(result);
    case Verdict::NotUnderstood:
    case Verdict::LocalFailure:
    case Verdict::PushLost:
    case Verdict::TlsFailure:
    case Verdict::ApiCredentialsRejected:
        conversation_.error(msg::kUnavailable);
        return Stop{
            Status::AuthinfoUnavail,
            detail + (config_.failmode == FailMode::Safe ? "; failmode = safe does not apply to this failure" : "")};
    case Verdict::BadRequest:
        conversation_.error(msg::kFailed);
        return Stop{Status::AuthErr, detail};
    }
    // Every Verdict has its case above (-Wswitch checks it).
    return Stop{Status::AuthErr, "unexpected verdict"};  // LCOV_EXCL_LINE
}

std::time_t Flow::now() const {
    return wall_clock_ ? wall_clock_() : std::time(nullptr);
}

// The only place an outage (Verdict::Outage, outage.h) is answered: a
// recent success (offline_grace), then failmode = safe, then a rescue code,
// else PAM_AUTHINFO_UNAVAIL.
Flow::Stop Flow::outage_stop(const BackendResult& result) {
    const std::string& detail = result.detail;
    const std::string& subject = fac_subject(config_, login_);
    if (offline_grace_ != nullptr && config_.offline_grace_s > 0) {
        if (const long ago = offline_grace_->accepted_within(subject, now(), config_.offline_grace_s); ago >= 0) {
            return Stop{Status::Ignore,
                        detail + "; offline_grace: FortiAuthenticator accepted " + subject + "'s second factor " +
                            std::to_string(ago) + " s ago, so the login goes on without it",
                        true};
        }
    }
    if (config_.failmode == FailMode::Safe) {
        return Stop{Status::Ignore, detail + "; failmode = safe lets the login go on without FortiAuthenticator", true};
    }
    if (rescue_allowed() && rescue_->count(subject) > 0) {
        return run_rescue_prompt(detail);
    }
    conversation_.error(msg::kUnavailable);
    return Stop{Status::AuthinfoUnavail, detail};
}

// Rescue codes stand for the second factor only: with password = yes FAC
// checks the password too, and no rescue code may stand for that.
bool Flow::rescue_allowed() const {
    return rescue_ != nullptr && config_.rescue_codes != RescueMode::No && !config_.password;
}

bool Flow::handle_rescue_answer(const Secret& answer, std::optional<Stop>& stop, std::string& last_problem) {
    const auto code = normalise_rescue_code(answer.view());
    if (!code || !rescue_allowed()) {
        return false;  // a FortiToken code, or a malformed answer the code checks refuse
    }
    if (config_.rescue_codes == RescueMode::Offline) {
        // Never sent to FAC, and FAC has not been found unreachable yet.
        conversation_.error(msg::kRescueOnlyOffline);
        last_problem =
            "rescue code typed before FortiAuthenticator was found unreachable (rescue_codes = offline); "
            "not sent, not used";
        return true;
    }
    use_rescue_code(*code, "rescue_codes = yes", stop, last_problem);
    return true;
}

void Flow::use_rescue_code(const Secret& code, const char* why, std::optional<Stop>& stop, std::string& last_problem) {
    const std::string& subject = fac_subject(config_, login_);
    const RescueUse use = rescue_->consume(subject, code.view());
    switch (use.result) {
    case RescueUse::Result::Used: {
        method_ = "rescue";
        const std::string left =
            std::to_string(use.left) + (use.left == 1 ? " rescue code left" : " rescue codes left");
        logger_.warning("rescue code used by " + log_value(subject) + " (" + why + "); " + left);
        stop = Stop{Status::Success, std::string("rescue code accepted (") + why + "); " + left};
        return;
    }
    case RescueUse::Result::Wrong:
        conversation_.error(msg::kWrongRescue);
        last_problem = "wrong rescue code";
        return;
    case RescueUse::Result::Unavailable:
        conversation_.error(msg::kWrongRescue);
        last_problem = "rescue code not checked: " + use.problem;
        return;
    }
}

Flow::Stop Flow::run_rescue_prompt(const std::string& detail) {
    conversation_.error(msg::kUnavailableRescue);
    std::string last_problem;
    for (int attempt = 1; attempt <= config_.tries; ++attempt) {
        Secret answer;
        if (!conversation_.ask(prompts::kRescueCode, config_.echo_code, answer)) {
            return Stop{Status::ConvErr, detail + "; conversation failed while asking for a rescue code"};
        }
        if (answer.empty()) {
            conversation_.error(msg::kUnavailable);
            return Stop{Status::AuthinfoUnavail, detail + "; no rescue code given"};
        }
        const auto code = normalise_rescue_code(answer.view());
        if (!code) {
            conversation_.error(msg::kNotRescue);
            last_problem = "answer is not a rescue code";
            continue;
        }
        std::optional<Stop> stop;
        use_rescue_code(*code, "rescue_codes, FortiAuthenticator unreachable", stop, last_problem);
        if (stop) {
            return *stop;
        }
    }
    return wrong_credentials_exhausted(detail + "; " + last_problem);
}

}  // namespace pamfac

// One authentication as a state machine over a Conversation and a Backend:
// prompts and their order, tries, input checks, push, and the mapping of
// every verdict to a Status and user message (pam_fac(8): THE CONVERSATION, RETURN VALUES). Knows
// nothing of PAM or HTTP, so every branch is unit-tested with fakes.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/background_push.h"
#include "auth/offline_grace.h"
#include "config/config.h"
#include "core/backend.h"
#include "core/conversation.h"
#include "core/logger.h"
#include "core/login.h"
#include "core/outcome.h"
#include "core/secret.h"
#include "state/rescue_store.h"

namespace pamfac {

namespace prompts {
inline constexpr const char* kPassword = "Password: ";
inline constexpr const char* kPasswordAndCode = "Password and FortiToken code: ";
inline constexpr const char* kCode = "FortiToken code: ";
inline constexpr const char* kCodeOrPush = "FortiToken code (press Enter for push): ";
inline constexpr const char* kRescueCode = "Rescue code: ";
// autopush: the prompt itself says the push is out, since it is the one
// message every client shows at once (sshd holds info text back until the
// next prompt; sudo passes PAM_SILENT).
inline constexpr const char* kPushSent = "Push sent: approve it and press Enter, or type a FortiToken code: ";
}  // namespace prompts

class Flow {
public:
    using WallClock = std::function<std::time_t()>;

    Flow(const Config& config, const LoginContext& login, Conversation& conversation, Backend& backend, Logger& logger,
         WallClock wall_clock = nullptr);

    Outcome run();

    // The password this flow prompted for, for forward_pass; null otherwise.
    const Secret* prompted_password() const { return prompted_password_ ? &password_ : nullptr; }

    // What may still let a user in when FAC cannot answer: offline_grace
    // records and rescue codes. Either may be null (then it never applies).
    void set_offline_fallbacks(const OfflineGrace* grace, RescueStore* rescue) {
        offline_grace_ = grace;
        rescue_ = rescue;
    }
    // After run(): FAC itself accepted the user's second factor (not a
    // password alone, not a rescue code), which offline_grace records.
    bool fac_accepted_second_factor() const { return fac_accepted_second_factor_; }

private:
    // A step's end: the Status, plus what the user and the log are told.
    struct Stop {
        Status status;
        std::string reason;
        bool degraded = false;  // failmode = safe let the login through unchecked
    };

    std::optional<Stop> obtain_password(const char* prompt);
    std::optional<Stop> check_password_before_push(bool& password_change);
    PushFields push_fields() const;
    std::optional<Stop> start_autopush(std::unique_ptr<BackgroundPush>& push);
    std::optional<Stop> settle_autopush(const BackendResult& result, bool user_pressed_enter);
    Stop run_otp_append();
    Stop run_password_only();
    Stop run_push_only();
    Stop run_code_loop();
    std::optional<Stop> run_push(bool code_fallback_allowed);
    Stop from_verdict(const BackendResult& result);
    bool repeats_rejected(const Secret& answer) const;
    Stop wrong_credentials_exhausted(const std::string& what);
    void note_server(const BackendResult& result);
    Stop outage_stop(const BackendResult& result);
    bool rescue_allowed() const;
    bool handle_rescue_answer(const Secret& answer, std::optional<Stop>& stop, std::string& last_problem);
    void use_rescue_code(const Secret& code, const char* why, std::optional<Stop>& stop, std::string& last_problem);
    Stop run_rescue_prompt(const std::string& detail);
    std::time_t now() const;

    const Config& config_;
    const LoginContext& login_;
    Conversation& conversation_;
    Backend& backend_;
    Logger& logger_;
    WallClock wall_clock_;

    std::string fac_user_;  // the name FAC knows: username_map applied
    // The answers FAC rejected in this login: sshd's PasswordAuthentication
    // answers every prompt with the same text, and resending one only feeds
    // lockout.
    std::vector<Secret> rejected_;
    Secret password_;
    bool have_password_ = false;
    bool prompted_password_ = false;
    std::string method_;
    std::string server_;
    const OfflineGrace* offline_grace_ = nullptr;
    RescueStore* rescue_ = nullptr;
    bool fac_accepted_second_factor_ = false;
};

}  // namespace pamfac

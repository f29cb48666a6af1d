#include "core/outcome.h"

#include "core/text.h"

namespace pamfac {

const char* pam_code_name(Status s) {
    switch (s) {
#define PAMFAC_NAME_CASE(status, code) \
    case Status::status:               \
        return #code;
        PAMFAC_STATUS_PAM_CODES(PAMFAC_NAME_CASE)
#undef PAMFAC_NAME_CASE
    }
    return "?";
}

const char* status_word(Status s) {
    switch (s) {
    case Status::Success:
        return "success";
    case Status::AuthErr:
        return "denied";
    case Status::UserUnknown:
        return "unknown_user";
    case Status::Ignore:
        return "ignored";
    case Status::AuthinfoUnavail:
        return "unavailable";
    case Status::ServiceErr:
        return "error";
    case Status::ConvErr:
        return "aborted";
    }
    return "?";
}

LogLevel summary_level(const Outcome& outcome) {
    if (outcome.degraded) {
        return LogLevel::Warning;
    }
    switch (outcome.status) {
    case Status::Success:
    case Status::Ignore:
        return LogLevel::Info;
    case Status::AuthErr:
    case Status::UserUnknown:
    case Status::ConvErr:
        return LogLevel::Notice;
    case Status::AuthinfoUnavail:
    case Status::ServiceErr:
        return LogLevel::Error;
    }
    return LogLevel::Error;
}

std::string summary_line(const Outcome& outcome, const LoginContext& login) {
    std::string line = "result=";
    line += status_word(outcome.status);
    line += " user=" + log_value(login.user);
    if (!outcome.fac_user.empty()) {
        line += " fac_user=" + log_value(outcome.fac_user);
    }
    line += " rhost=" + log_value(login.rhost.empty() ? "-" : login.rhost);
    if (!outcome.method.empty()) {
        line += " method=" + outcome.method;
    }
    if (!outcome.server.empty()) {
        line += " server=" + log_value(outcome.server);
    }
    line += " ms=" + std::to_string(outcome.elapsed_ms);
    if (!outcome.reason.empty()) {
        line += " reason=" + log_value(outcome.reason);
    }
    return line;
}

}  // namespace pamfac

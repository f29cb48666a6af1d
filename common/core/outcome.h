// The result of one authentication, independent of PAM: what to return, and
// the one summary line the log gets.
#pragma once

#include <string>

#include "core/logger.h"
#include "core/login.h"

namespace pamfac {

enum class Status { Success, AuthErr, UserUnknown, Ignore, AuthinfoUnavail, ServiceErr, ConvErr };

const char* status_word(Status s);

// Status → PAM return code, as one table: the module expands it with
// PAM's constants (common/ has no PAM headers), pam_code_name with their
// names, for facctl and the tests.
#define PAMFAC_STATUS_PAM_CODES(X)           \
    X(Success, PAM_SUCCESS)                  \
    X(AuthErr, PAM_AUTH_ERR)                 \
    X(UserUnknown, PAM_USER_UNKNOWN)         \
    X(Ignore, PAM_IGNORE)                    \
    X(AuthinfoUnavail, PAM_AUTHINFO_UNAVAIL) \
    X(ServiceErr, PAM_SERVICE_ERR)           \
    X(ConvErr, PAM_CONV_ERR)

const char* pam_code_name(Status s);

struct Outcome {
    Status status = Status::AuthErr;
    std::string method;  // code, push, password, password+code, password+push, otp_append
    std::string server;
    std::string fac_user;  // the name sent to FAC, when username_map changed it
    std::string reason;    // what happened and what to fix; never a secret
    long elapsed_ms = 0;
    bool degraded = false;  // let through by failmode = safe: logged as a warning
};

// "result=success user=alice rhost=203.0.113.5 method=push server=fac1 ms=2140"
LogLevel summary_level(const Outcome& outcome);

std::string summary_line(const Outcome& outcome, const LoginContext& login);

}  // namespace pamfac

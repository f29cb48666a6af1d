// What the flow asks of an authentication service (FAC or FTC), and
// the classified answers it gets back.
#pragma once

#include <string>

#include "core/secret.h"

namespace pamfac {

enum class Verdict {
    Accepted,
    AcceptedPasswordChange,  // realmauth 202: in, but the password must change
    WrongCredentials,        // wrong password or code (FAC does not say which)
    AccountDisabled,
    NoToken,
    TokenOutOfSync,
    UnknownUser,
    PushRejected,
    PushTimedOut,
    PushNotSent,      // push server refused or unreachable (500, 503)
    PushUnavailable,  // no FortiToken Mobile for this user, or unknown user (404)
    PushAbandoned,    // cancelled by the caller (autopush: a code won)
    Outage,           // no server reachable, strictly (outage.h): failmode applies
    NotUnderstood,    // an answer or failure that is no outage: fail closed, whatever failmode says
    LocalFailure,     // the login's own process failed (no socket, no memory, no thread)
    PushLost,         // a push went out, then anything but the user's answer before push_timeout
    TlsFailure,       // certificate, host name or pin check failed
    ApiCredentialsRejected,
    BadRequest,  // the module could not build a request (e.g. invalid UTF-8)
};

const char* verdict_name(Verdict v);

struct BackendResult {
    Verdict verdict = Verdict::NotUnderstood;
    std::string server;  // host that gave the answer, or the last one tried
    std::string detail;  // for the log: what happened and what to fix
};

struct CodeCheck {
    const std::string* username = nullptr;
    const Secret* password = nullptr;  // may be null
    const Secret* code = nullptr;      // may be null
    bool concatenated = false;         // password holds password+code (otp_append)
};

struct PushFields {
    std::string username;
    std::string user_ip;  // empty unless the remote host is an IP literal
    std::string timestamp;
    std::string account;
    std::string user_agent;
    std::string log_message;
};

class CancelToken;

class Backend {
public:
    virtual ~Backend() = default;
    virtual BackendResult check(const CodeCheck& check) = 0;
    // Blocks until the user answers, push_timeout passes, or `cancel`
    // (optional) is cancelled. May run on a background thread (autopush)
    // while check() runs on the caller's.
    virtual BackendResult push(const PushFields& fields, CancelToken* cancel) = 0;
};

}  // namespace pamfac

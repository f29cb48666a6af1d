#include "core/backend.h"

namespace pamfac {

const char* verdict_name(Verdict v) {
    switch (v) {
    case Verdict::Accepted:
        return "accepted";
    case Verdict::AcceptedPasswordChange:
        return "accepted_password_change";
    case Verdict::WrongCredentials:
        return "wrong_credentials";
    case Verdict::AccountDisabled:
        return "account_disabled";
    case Verdict::NoToken:
        return "no_token";
    case Verdict::TokenOutOfSync:
        return "token_out_of_sync";
    case Verdict::UnknownUser:
        return "unknown_user";
    case Verdict::PushRejected:
        return "push_rejected";
    case Verdict::PushTimedOut:
        return "push_timed_out";
    case Verdict::PushNotSent:
        return "push_not_sent";
    case Verdict::PushUnavailable:
        return "push_unavailable";
    case Verdict::PushAbandoned:
        return "push_abandoned";
    case Verdict::Outage:
        return "outage";
    case Verdict::NotUnderstood:
        return "not_understood";
    case Verdict::LocalFailure:
        return "local_failure";
    case Verdict::PushLost:
        return "push_lost";
    case Verdict::TlsFailure:
        return "tls_failure";
    case Verdict::ApiCredentialsRejected:
        return "api_credentials_rejected";
    case Verdict::BadRequest:
        return "bad_request";
    }
    return "?";
}

}  // namespace pamfac

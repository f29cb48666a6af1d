#include "fac/fac_answer.h"

#include "core/text.h"
#include "http/json_body.h"

namespace pamfac {
namespace {

Verdict classify_network_error(const HttpResponse& r, Endpoint endpoint, std::string& detail) {
    detail = std::string(net_error_name(r.error)) + ": " + printable(r.detail);
    switch (r.error) {
    case NetError::TlsVerify:
        detail += " (check ca_file/ca_path, the server's certificate and host name, and pinned_pubkey)";
        return Verdict::TlsFailure;
    case NetError::Timeout:
        if (endpoint == Endpoint::PushAuth) {
            detail = "push not answered within push_timeout";
            return Verdict::PushTimedOut;
        }
        detail += " (FAC did not answer within timeout)";
        return Verdict::Outage;
    case NetError::TooLarge:
        detail += " (not an answer FAC gives; check the server URL)";
        return Verdict::Outage;
    case NetError::Cancelled:
        detail = "push abandoned: the user answered with a code first";
        return Verdict::PushAbandoned;
    default:
        return Verdict::Outage;
    }
}

std::string status_detail(long status, std::string_view what) {
    return "HTTP " + std::to_string(status) + ": " + std::string(what);
}

Verdict classify_user_message(const std::string& text, long status, std::string& detail) {
    if (status == 401) {
        if (text == "user authentication failed") {
            detail = "wrong password or code";
            return Verdict::WrongCredentials;
        }
        if (text == "account is disabled") {
            detail = "account is disabled at FAC (or locked out after too many failures)";
            return Verdict::AccountDisabled;
        }
        if (text == "no token configured") {
            detail = "user has no token at FAC; assign a FortiToken to the user";
            return Verdict::NoToken;
        }
        if (text == "token is out of sync") {
            detail = "user's token is out of sync; resynchronise it at FAC";
            return Verdict::TokenOutOfSync;
        }
        detail = status_detail(status,
                               "FAC rejected the module's API credentials; check api_user and api_key, and "
                               "that the administrator has web service access");
        return Verdict::ApiCredentialsRejected;
    }
    if (text == "user does not exist") {
        detail = "FAC does not know this user";
        return Verdict::UnknownUser;
    }
    detail = status_detail(status, "not a FAC answer; check the server URL and its /api/v1/ prefix");
    return Verdict::Outage;
}

Verdict classify_auth(const HttpResponse& r, std::string& detail) {
    const long s = r.status;
    if (s == 200) {
        detail = "accepted";
        return Verdict::Accepted;
    }
    if (s == 202) {
        detail = "accepted; FAC requires a password change";
        return Verdict::AcceptedPasswordChange;
    }
    if (s == 401 || s == 404) {
        return classify_user_message(normalise_answer_text(r.body), s, detail);
    }
    if (s == 403) {
        detail = status_detail(s,
                               "the API administrator lacks permission; grant it web service access to "
                               "authentication at FAC");
        return Verdict::ApiCredentialsRejected;
    }
    if (s == 400) {
        detail = status_detail(s, "FAC refused the request as malformed (check realm)");
        return Verdict::Outage;
    }
    if (s >= 300 && s < 400) {
        detail = status_detail(s, "redirect not followed; check the server URL");
        return Verdict::Outage;
    }
    if (s >= 500) {
        detail = status_detail(s, "FAC or a proxy in front of it failed");
        return Verdict::Outage;
    }
    detail = status_detail(s, "unexpected answer");
    return Verdict::Outage;
}

Verdict classify_push(const HttpResponse& r, std::string& detail) {
    switch (r.status) {
    case 200:
        detail = "push approved";
        return Verdict::Accepted;
    case 401:
        detail = "push rejected by the user (a 401 on /pushauth/ can also mean rejected API credentials)";
        return Verdict::PushRejected;
    case 404:
        detail = "no FortiToken Mobile assigned to this user at FAC, or unknown user";
        return Verdict::PushUnavailable;
    case 500:
        detail = "HTTP 500: FAC's push server refused to send the notification";
        return Verdict::PushNotSent;
    case 503:
        detail = "HTTP 503: FAC cannot reach its push server; check FAC's Internet access";
        return Verdict::PushNotSent;
    case 403:
        detail = status_detail(403, "the API administrator lacks permission for push authentication at FAC");
        return Verdict::ApiCredentialsRejected;
    default:
        break;
    }
    if (r.status >= 300 && r.status < 400) {
        detail = status_detail(r.status, "redirect not followed; check the server URL");
    } else {
        detail = status_detail(r.status, "unexpected answer to a push");
    }
    return Verdict::Outage;
}

}  // namespace

std::string normalise_answer_text(std::string_view body) {
    std::string_view text = trim(body);
    std::string from_json;
    if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
        from_json = first_json_string(text);
        text = trim(from_json);
    }
    while (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front()) {
        text = trim(text.substr(1, text.size() - 2));
    }
    while (!text.empty() && text.back() == '.') {
        text.remove_suffix(1);
    }
    return ascii_lower(text);
}

bool allows_failover(const HttpResponse& response, Endpoint endpoint) {
    switch (response.error) {
    case NetError::Resolve:
    case NetError::Connect:
    case NetError::ConnectTimeout:
    case NetError::TlsHandshake:
    case NetError::TlsVerify:
        return true;
    case NetError::None:
        break;
    default:
        return false;
    }
    if (endpoint == Endpoint::PushAuth) {
        // 503 is FAC's own "push server unreachable", and a 504 may come
        // after the push went out: only a proxy's 502 proves it did not.
        return response.status == 502;
    }
    return response.status == 502 || response.status == 503 || response.status == 504;
}

Verdict classify_answer(const HttpResponse& response, Endpoint endpoint, std::string& detail) {
    if (response.error != NetError::None) {
        return classify_network_error(response, endpoint, detail);
    }
    return endpoint == Endpoint::PushAuth ? classify_push(response, detail) : classify_auth(response, detail);
}

}  // namespace pamfac

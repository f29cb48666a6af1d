#include "fac/fac_answer.h"

#include <algorithm>
#include <vector>

#include "core/outage.h"
#include "core/text.h"
#include "http/json_body.h"

namespace pamfac {
namespace {

std::string status_detail(long status, std::string_view what) {
    return "HTTP " + std::to_string(status) + ": " + std::string(what);
}

std::string not_understood(const HttpResponse& r, Endpoint endpoint) {
    return "HTTP " + std::to_string(r.status) + " from " + endpoint_path(endpoint) + " with " + body_excerpt(r.body) +
           " is not an answer FAC documents; the door stays shut (check the server URL and what answers there)";
}

// FAC's texts may come bare, quoted, or as any string value of a JSON body.
std::vector<std::string> answer_texts(const std::string& body) {
    const std::string_view text = trim(body);
    std::vector<std::string> texts;
    if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
        for (const std::string& value : json_string_values(text, 16)) {
            texts.push_back(normalise_answer_text(value));
        }
    } else {
        texts.push_back(normalise_answer_text(text));
    }
    return texts;
}

bool says(const std::vector<std::string>& texts, std::string_view wanted) {
    return std::find(texts.begin(), texts.end(), wanted) != texts.end();
}

// A 200 or 202 is FAC's yes only as FAC gives it: no body (the documented
// form), or a JSON object that reports no error.
bool is_plain_yes(const std::string& body) {
    const std::string_view text = trim(body);
    return text.empty() || is_json_object_without_error(text);
}

Verdict from_failure(FailureKind kind, Endpoint endpoint) {
    switch (kind) {
    case FailureKind::Outage:
        return Verdict::Outage;
    case FailureKind::LocalFailure:
        return Verdict::LocalFailure;
    case FailureKind::TlsFailure:
        return Verdict::TlsFailure;
    case FailureKind::Cancelled:
        return Verdict::PushAbandoned;
    case FailureKind::NotUnderstood:
        break;
    }
    // After a push request went out, whatever comes back but the user's
    // answer is a lost push, never an outage.
    return endpoint == Endpoint::PushAuth ? Verdict::PushLost : Verdict::NotUnderstood;
}

RequestKind request_kind(Endpoint endpoint) {
    RequestKind kind;
    kind.carries_push = endpoint == Endpoint::PushAuth;
    kind.server_error_is_outage = endpoint != Endpoint::PushAuth;
    return kind;
}

Verdict classify_network_error(const HttpResponse& r, Endpoint endpoint, bool caller_controls_timing,
                               std::string& detail) {
    detail = std::string(net_error_name(r.error)) + ": " + printable(r.detail);
    if (r.error == NetError::Timeout && endpoint == Endpoint::PushAuth) {
        detail = "push not answered within push_timeout";
        return Verdict::PushTimedOut;
    }
    const FailureKind kind = classify_failure(r, request_kind(endpoint), caller_controls_timing);
    switch (kind) {
    case FailureKind::TlsFailure:
        detail += " (check ca_file/ca_path, the server's certificate and host name, and pinned_pubkey)";
        break;
    case FailureKind::Cancelled:
        detail = "push abandoned: the user answered with a code first";
        break;
    case FailureKind::LocalFailure:
        detail += " (a failure of this process, not of FAC: check its limits, e.g. open files)";
        break;
    case FailureKind::NotUnderstood:
        if (endpoint == Endpoint::PushAuth) {
            detail += " (after the push was sent: not an outage)";
        } else if (r.error == NetError::ConnectTimeout && caller_controls_timing) {
            detail += " (in a setuid program whose caller can stop it, a timeout is no evidence of an outage)";
        } else if (r.error == NetError::Timeout) {
            detail += " (FAC did not answer within timeout; the request may have reached it, so this is no outage)";
        } else {
            detail += " (not an outage: the request may have reached FAC)";
        }
        break;
    case FailureKind::Outage:
        break;
    }
    return from_failure(kind, endpoint);
}

Verdict classify_user_message(const HttpResponse& r, Endpoint endpoint, std::string& detail) {
    const std::vector<std::string> texts = answer_texts(r.body);
    if (r.status == 401) {
        if (says(texts, "user authentication failed")) {
            detail = "wrong password or code";
            return Verdict::WrongCredentials;
        }
        if (says(texts, "account is disabled")) {
            detail = "account is disabled at FAC (or locked out after too many failures)";
            return Verdict::AccountDisabled;
        }
        if (says(texts, "no token configured")) {
            detail = "user has no token at FAC; assign a FortiToken to the user";
            return Verdict::NoToken;
        }
        if (says(texts, "token is out of sync")) {
            detail = "user's token is out of sync; resynchronise it at FAC";
            return Verdict::TokenOutOfSync;
        }
        detail = status_detail(r.status, "FAC rejected the module's API credentials (" + body_excerpt(r.body) +
                                             "); check api_user and api_key, and that the administrator has web "
                                             "service access");
        return Verdict::ApiCredentialsRejected;
    }
    if (says(texts, "user does not exist")) {
        detail = "FAC does not know this user";
        return Verdict::UnknownUser;
    }
    detail = not_understood(r, endpoint);
    return Verdict::NotUnderstood;
}

Verdict classify_auth(const HttpResponse& r, Endpoint endpoint, bool caller_controls_timing, std::string& detail) {
    const long s = r.status;
    if (s == 200 || s == 202) {
        if (!is_plain_yes(r.body)) {
            detail = not_understood(r, endpoint);
            return Verdict::NotUnderstood;
        }
        detail = s == 200 ? "accepted" : "accepted; FAC requires a password change";
        return s == 200 ? Verdict::Accepted : Verdict::AcceptedPasswordChange;
    }
    if (s == 401 || s == 404) {
        return classify_user_message(r, endpoint, detail);
    }
    if (s == 403) {
        detail = status_detail(s,
                               "the API administrator lacks permission; grant it web service access to "
                               "authentication at FAC");
        return Verdict::ApiCredentialsRejected;
    }
    const FailureKind kind = classify_failure(r, request_kind(endpoint), caller_controls_timing);
    if (kind == FailureKind::Outage) {
        detail = status_detail(s, "FAC or a proxy in front of it cannot serve the request");
        return Verdict::Outage;
    }
    detail = not_understood(r, endpoint);
    if (s >= 300 && s < 400) {
        detail += "; redirects are not followed";
    }
    return Verdict::NotUnderstood;
}

Verdict classify_push(const HttpResponse& r, std::string& detail) {
    switch (r.status) {
    case 200:
        if (!is_plain_yes(r.body)) {
            detail = not_understood(r, Endpoint::PushAuth);
            return Verdict::NotUnderstood;
        }
        detail = "push approved";
        return Verdict::Accepted;
    case 401:
        detail = "push rejected by the user";
        return Verdict::PushRejected;
    case 404:
        detail = "no FortiToken Mobile assigned to this user at FAC, or unknown user";
        return Verdict::PushUnavailable;
    case 500:
        detail = "HTTP 500: FAC's push server refused to send the notification";
        return Verdict::PushNotSent;
    case 502:
        detail = "HTTP 502 from a proxy in front of FAC: the push was not sent";
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
    detail = not_understood(r, Endpoint::PushAuth) + "; the push may have been sent, so this is no outage";
    return Verdict::PushLost;
}

}  // namespace

std::string body_excerpt(const std::string& body) {
    constexpr std::size_t kShown = 80;
    const std::string_view text = trim(body);
    if (text.empty()) {
        return "empty body";
    }
    std::string shown = printable(text.substr(0, kShown));
    if (text.size() > kShown) {
        shown += "...";
    }
    return "body \"" + shown + "\"";
}

const char* endpoint_path(Endpoint e) {
    switch (e) {
    case Endpoint::Auth:
        return "/api/v1/auth/";
    case Endpoint::RealmAuth:
        return "/api/v1/realmauth/";
    case Endpoint::PushAuth:
        return "/api/v1/pushauth/";
    }
    return "";
}

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

Verdict classify_answer(const HttpResponse& response, Endpoint endpoint, bool caller_controls_timing,
                        std::string& detail) {
    if (response.error != NetError::None) {
        return classify_network_error(response, endpoint, caller_controls_timing, detail);
    }
    return endpoint == Endpoint::PushAuth ? classify_push(response, detail)
                                          : classify_auth(response, endpoint, caller_controls_timing, detail);
}

}  // namespace pamfac

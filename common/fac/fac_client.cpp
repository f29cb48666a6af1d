#include "fac/fac_client.h"

#include <ctime>
#include <utility>

#include "core/text.h"
#include "http/json_body.h"
#include "http/url.h"

namespace pamfac {
namespace {

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

// Failures that say the server itself is down (not what it answered).
bool is_connection_failure(NetError e) {
    return e == NetError::Resolve || e == NetError::Connect || e == NetError::ConnectTimeout ||
           e == NetError::TlsHandshake;
}

BackendResult bad_request(const char* what) {
    return BackendResult{Verdict::BadRequest, "", what};
}

}  // namespace

std::string server_host(const std::string& server_url) {
    const std::optional<UrlAuthority> where = url_authority(server_url);
    if (!where) {
        return "";  // not a server URL the config accepts
    }
    return where->host.find(':') == std::string::npos ? where->host : "[" + where->host + "]";
}

FacClient::FacClient(FacSettings settings, Transport& transport, Logger& logger)
    : settings_(std::move(settings)),
      transport_(transport),
      logger_(logger),
      health_(settings_.state_dir, settings_.server_retry_after_s, settings_.euid, logger) {}

BackendResult FacClient::check(const CodeCheck& check) {
    const bool realm = !settings_.realm.empty();
    Secret body;
    JsonObjectBuilder json(body);
    json.add("username", *check.username);
    if (realm) {
        json.add("realm", settings_.realm);
    }
    if (check.password != nullptr) {
        json.add("password", check.password->view());
    }
    if (check.code != nullptr) {
        json.add("token_code", check.code->view());
    } else if (check.concatenated) {
        json.add("token_code", "");  // FAC's documented form for password+code in one field
    }
    if (!json.finish()) {
        return bad_request("password is not valid UTF-8; not sent");
    }
    return send(realm ? Endpoint::RealmAuth : Endpoint::Auth, body, settings_.timeout_ms, nullptr);
}

BackendResult FacClient::push(const PushFields& f, CancelToken* cancel) {
    Secret body;
    JsonObjectBuilder json(body);
    json.add("username", f.username);
    if (!settings_.realm.empty()) {
        json.add("realm", settings_.realm);
    }
    if (!f.user_ip.empty()) {
        json.add("user_ip", f.user_ip);
    }
    json.add("timestamp", f.timestamp);
    json.add("account", f.account);
    json.add("user_agent", f.user_agent);
    json.add("log_message", f.log_message);
    if (!json.finish()) {
        return bad_request("push fields are not valid UTF-8; not sent");
    }
    return send(Endpoint::PushAuth, body, settings_.push_timeout_ms, cancel);
}

BackendResult FacClient::send(Endpoint endpoint, const Secret& body, long timeout_ms, CancelToken* cancel) {
    std::string failures;
    bool tls_failed = false;
    std::string last_host;
    const std::time_t now = std::time(nullptr);
    for (const std::string& server : health_.order(settings_.servers, now)) {
        last_host = server_host(server);
        HttpRequest request;
        request.url = server + endpoint_path(endpoint);
        request.body = &body;
        request.timeout_ms = timeout_ms;
        request.cancel = cancel;
        const HttpResponse response = transport_.perform(request);
        std::string detail;
        const Verdict verdict = classify_answer(response, endpoint, detail);
        if (logger_.debug_enabled()) {
            std::string line = "server=" + last_host;
            line += " path=";
            line += endpoint_path(endpoint);
            line += " status=" + std::to_string(response.status);
            line += " verdict=";
            line += verdict_name(verdict);
            line += " detail=" + log_value(detail);
            logger_.debug(line);
        }
        if (!allows_failover(response, endpoint)) {
            if (response.error == NetError::None) {
                health_.mark_healthy(server);
            }
            return BackendResult{verdict, last_host, detail};
        }
        if (is_connection_failure(response.error)) {
            health_.mark_failed(server, now);
        }
        tls_failed = tls_failed || verdict == Verdict::TlsFailure;
        if (!failures.empty()) {
            failures += "; ";
        }
        failures += last_host;
        failures += ": ";
        failures += detail;
    }
    return BackendResult{tls_failed ? Verdict::TlsFailure : Verdict::Outage, last_host,
                         "no server usable (" + failures + ")"};
}

}  // namespace pamfac

#include "fac/fac_client.h"

#include <ctime>
#include <utility>

#include "core/text.h"
#include "http/json_body.h"
#include "http/url.h"

namespace pamfac {
namespace {

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
    return send(realm ? Endpoint::RealmAuth : Endpoint::Auth, body, settings_.timeout_ms, nullptr).result;
}

bool FacClient::build_push_body(const PushFields& f, bool with_context, Secret& body) const {
    JsonObjectBuilder json(body);
    json.add("username", f.username);
    if (!settings_.realm.empty()) {
        json.add("realm", settings_.realm);
    }
    if (!f.user_ip.empty()) {
        json.add("user_ip", f.user_ip);
    }
    if (with_context) {
        json.add("timestamp", f.timestamp);
        json.add("account", f.account);
        json.add("user_agent", f.user_agent);
        json.add("log_message", f.log_message);
    }
    return json.finish();
}

BackendResult FacClient::push(const PushFields& f, CancelToken* cancel) {
    Secret body;
    if (!build_push_body(f, true, body)) {
        return bad_request("push fields are not valid UTF-8; not sent");
    }
    Sent sent = send(Endpoint::PushAuth, body, settings_.push_timeout_ms, cancel);
    if (sent.status == 400) {
        // Older FAC versions refuse the context fields; a 400 sent nothing.
        logger_.warning("server=" + sent.result.server +
                        " FAC refused the push's context fields (timestamp, account, user_agent, log_message) "
                        "with HTTP 400; sending the push again with the user name alone");
        Secret plain;
        if (!build_push_body(f, false, plain)) {
            return bad_request("push fields are not valid UTF-8; not sent");
        }
        sent = send(Endpoint::PushAuth, plain, settings_.push_timeout_ms, cancel);
        if (sent.result.verdict == Verdict::Outage) {
            // A server answered the first request: FAC is not down.
            sent.result.verdict = Verdict::NotUnderstood;
            sent.result.detail =
                "FAC answered the push with HTTP 400, then no server took it again (" + sent.result.detail + ")";
        }
    }
    if (sent.result.verdict == Verdict::PushRejected) {
        return verify_push_rejection(sent);
    }
    return sent.result;
}

BackendResult FacClient::verify_push_rejection(const Sent& sent) {
    HttpRequest request;
    request.url = sent.server_url + "/api/v1/fortitokens/?limit=1";
    request.timeout_ms = settings_.timeout_ms;
    const HttpResponse probe = transport_.perform(request);
    BackendResult result = sent.result;
    if (probe.error == NetError::None && (probe.status == 401 || probe.status == 403)) {
        result.verdict = Verdict::ApiCredentialsRejected;
        result.detail = "HTTP 401 on /api/v1/pushauth/, and HTTP " + std::to_string(probe.status) +
                        " on /api/v1/fortitokens/: FAC rejects the module's API credentials, not the user's "
                        "push; check api_user and api_key, and that the administrator has web service access";
    } else if (probe.error != NetError::None || probe.status != 200) {
        result.detail += " (could not confirm the API credentials: " +
                         (probe.error != NetError::None ? std::string(net_error_name(probe.error))
                                                        : "HTTP " + std::to_string(probe.status)) +
                         " on /api/v1/fortitokens/)";
    }
    return result;
}

FacClient::Sent FacClient::send(Endpoint endpoint, const Secret& body, long timeout_ms, CancelToken* cancel) {
    std::string failures;
    bool every_failure_an_outage = true;
    Verdict first_other = Verdict::Outage;  // the first failure that was not an outage
    std::string last_host;
    std::string last_url;
    long last_status = 0;
    const std::time_t now = std::time(nullptr);
    const std::vector<std::string> servers = health_.order(settings_.servers, now);
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const std::string& server = servers[i];
        last_host = server_host(server);
        last_url = server;
        HttpRequest request;
        request.url = server + endpoint_path(endpoint);
        request.body = &body;
        request.timeout_ms = timeout_ms;
        request.cancel = cancel;
        const HttpResponse response = transport_.perform(request);
        last_status = response.error == NetError::None ? response.status : 0;
        std::string detail;
        Verdict verdict = classify_answer(response, endpoint, settings_.caller_controls_timing, detail);
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
            if (verdict == Verdict::Outage && (i + 1 < servers.size() || !every_failure_an_outage)) {
                // The other servers were not tried (the request may have
                // reached this one), or were not down: no outage of them all.
                verdict = Verdict::NotUnderstood;
                detail += "; not every server was found down, so this is no outage";
            }
            return Sent{BackendResult{verdict, last_host, detail}, last_status, last_url};
        }
        if (is_connection_failure(response.error)) {
            health_.mark_failed(server, now);
        }
        if (verdict != Verdict::Outage && every_failure_an_outage) {
            every_failure_an_outage = false;
            first_other = verdict;
        }
        if (!failures.empty()) {
            failures += "; ";
        }
        failures += last_host;
        failures += ": ";
        failures += detail;
    }
    if (every_failure_an_outage) {
        return Sent{BackendResult{Verdict::Outage, last_host, "no server reachable (" + failures + ")"}, last_status,
                    last_url};
    }
    // A push every server's proxy refused (502) was sent nowhere.
    const Verdict verdict = first_other == Verdict::TlsFailure || first_other == Verdict::LocalFailure ||
                                    first_other == Verdict::PushNotSent
                                ? first_other
                                : Verdict::NotUnderstood;
    return Sent{BackendResult{verdict, last_host, "no server usable, and not every one down (" + failures + ")"},
                last_status, last_url};
}

}  // namespace pamfac

#include "ftc/ftc_client.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

#include "core/cancel.h"
#include "core/text.h"
#include "fac/fac_answer.h"
#include "fac/fac_client.h"
#include "http/json_body.h"
#include "http/url.h"

namespace pamfac {
namespace {

using Clock = std::chrono::steady_clock;

std::string http_detail(long status, const std::string& what) {
    return "HTTP " + std::to_string(status) + ": " + what;
}

// An authid goes into a URL path: accept only what FTC's UUIDs contain.
bool is_safe_authid(const std::string& id) {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string json_string(const std::string& body, const char* name) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) {
        return {};
    }
    return std::string(doc[name].GetString(), doc[name].GetStringLength());
}

// Network failures read the same way for FTC as for FAC.
BackendResult network_failure(const HttpResponse& r, const std::string& server, bool caller_controls_timing) {
    std::string detail;
    const Verdict v = classify_answer(r, Endpoint::Auth, caller_controls_timing, detail);
    return BackendResult{v, server, "FortiToken Cloud: " + detail};
}

bool is_transient(NetError e) {
    return e == NetError::Resolve || e == NetError::Connect || e == NetError::ConnectTimeout ||
           e == NetError::Timeout || e == NetError::Broken || e == NetError::TlsHandshake;
}

}  // namespace

FtcClient::FtcClient(FtcSettings settings, Transport& transport, Logger& logger)
    : settings_(std::move(settings)),
      transport_(transport),
      logger_(logger),
      cache_(settings_.state_dir, settings_.servers.empty() ? "" : settings_.servers.front(), settings_.client_id,
             settings_.euid, logger) {}

std::optional<BackendResult> FtcClient::ensure_token(Transport& via, const Secret* refused) {
    // Held across /login: a second thread waits for the token being fetched
    // instead of fetching another.
    const std::lock_guard<std::mutex> lock(token_mutex_);
    const std::time_t now = std::time(nullptr);
    if (refused == nullptr) {
        if (!token_.empty()) {
            return std::nullopt;
        }
        if (std::optional<Secret> cached = cache_.load(now)) {
            token_ = std::move(*cached);
            logger_.debug("ftc: using the cached bearer token");
            return std::nullopt;
        }
    } else {
        if (token_.view() != refused->view()) {
            return std::nullopt;  // renewed meanwhile by the other thread
        }
        logger_.debug("ftc: bearer token refused, renewing it");
        cache_.forget();
    }
    Secret body;
    JsonObjectBuilder json(body);
    json.add("client_id", settings_.client_id);
    json.add("client_secret", settings_.client_secret->view());
    if (!json.finish()) {
        return BackendResult{Verdict::BadRequest, "", "ftc_client_id or ftc_client_secret is not valid UTF-8"};
    }
    HttpResponse response;
    std::string host;
    for (const std::string& server : settings_.servers) {
        host = server_host(server);
        HttpRequest request;
        request.url = server + "/api/v1/login";
        request.body = &body;
        request.timeout_ms = settings_.timeout_ms;
        request.auth = HttpAuth::None;
        response = via.perform(request);
        if (!allows_failover(response, Endpoint::Auth)) {
            break;
        }
    }
    if (response.error != NetError::None) {
        return network_failure(response, host, settings_.caller_controls_timing);
    }
    if (response.status == 401) {
        return BackendResult{Verdict::ApiCredentialsRejected, host,
                             "FortiToken Cloud rejected the login (HTTP 401); check ftc_client_id and "
                             "ftc_client_secret"};
    }
    if (response.status != 200 && response.status != 201) {
        return BackendResult{Verdict::Outage, host, http_detail(response.status, "FortiToken Cloud login failed")};
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(response.body.c_str(), response.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("access_token") || !doc["access_token"].IsString() ||
        doc["access_token"].GetStringLength() == 0) {
        return BackendResult{Verdict::Outage, host, "FortiToken Cloud login answer has no access_token"};
    }
    token_.assign(std::string_view(doc["access_token"].GetString(), doc["access_token"].GetStringLength()));
    wipe_memory(response.body.data(), response.body.size());
    long expires_in = 3600;
    if (doc.HasMember("expires_in") && doc["expires_in"].IsNumber()) {
        // Whatever FTC says, a token is kept at most a day: no overflow, and
        // a bogus lifetime cannot pin a token in the cache.
        const double seconds = doc["expires_in"].GetDouble();
        expires_in = std::isfinite(seconds) ? static_cast<long>(std::clamp(seconds, 0.0, 86400.0)) : 0;
    }
    cache_.store(token_, now + expires_in);
    logger_.debug("ftc: new bearer token from " + host + ", valid " + std::to_string(expires_in) + " s");
    return std::nullopt;
}

Secret FtcClient::current_token() {
    const std::lock_guard<std::mutex> lock(token_mutex_);
    return Secret(token_.view());  // a deliberate copy: the other thread may renew token_
}

std::optional<BackendResult> FtcClient::call(Transport& via, const std::string& path, const Secret* body,
                                             long timeout_ms, const std::string* only_server, Answer& answer) {
    if (auto failure = ensure_token(via, nullptr)) {
        return failure;
    }
    Secret bearer = current_token();
    HttpRequest request;
    request.body = body;
    request.timeout_ms = timeout_ms;
    request.auth = HttpAuth::Bearer;
    request.bearer = &bearer;
    const std::vector<std::string> one =
        only_server ? std::vector<std::string>{*only_server} : std::vector<std::string>{};
    const std::vector<std::string>& servers = only_server ? one : settings_.servers;
    for (int round = 0; round < 2; ++round) {
        for (const std::string& server : servers) {
            answer.server = server_host(server);
            answer.url = server;
            request.url = server + path;
            answer.response = via.perform(request);
            if (!allows_failover(answer.response, Endpoint::Auth)) {
                break;
            }
        }
        const bool expired = answer.response.error == NetError::None && answer.response.status == 401;
        if (!expired || round == 1) {
            break;
        }
        // The token was revoked or expired early: renew it, once.
        if (auto failure = ensure_token(via, &bearer)) {
            return failure;
        }
        bearer = current_token();
    }
    return std::nullopt;
}

void FtcClient::add_scope(JsonObjectBuilder& json) const {
    if (!settings_.realm.empty()) {
        json.add("realm", settings_.realm);
    }
    if (!settings_.vdom.empty()) {
        json.add("vdom", settings_.vdom);
    }
    if (!settings_.sn.empty()) {
        json.add("sn", settings_.sn);
    }
}

BackendResult FtcClient::check(const CodeCheck& check) {
    if (check.code == nullptr || check.password != nullptr) {
        return BackendResult{Verdict::BadRequest, "", "FortiToken Cloud checks codes only"};
    }
    Secret body;
    JsonObjectBuilder json(body);
    json.add("username", *check.username);
    json.add("token", check.code->view());
    add_scope(json);
    if (!json.finish()) {
        return BackendResult{Verdict::BadRequest, "", "username is not valid UTF-8"};
    }
    const std::unique_ptr<Transport> via = transport_.series(nullptr);
    Answer a;
    if (auto failure = call(*via, "/api/v1/auth", &body, settings_.timeout_ms, nullptr, a)) {
        return *failure;
    }
    const HttpResponse& r = a.response;
    if (r.error != NetError::None) {
        return network_failure(r, a.server, settings_.caller_controls_timing);
    }
    const std::string error_text = ascii_lower(json_string(r.body, "error"));
    switch (r.status) {
    case 200:
        if (json_string(r.body, "status") == "rejected") {
            return BackendResult{Verdict::WrongCredentials, a.server, "wrong code"};
        }
        return BackendResult{Verdict::Accepted, a.server, "accepted"};
    case 401:
        return BackendResult{Verdict::ApiCredentialsRejected, a.server,
                             "FortiToken Cloud refused a fresh bearer token (HTTP 401); check the API client"};
    case 403:
        if (error_text.find("disabled") != std::string::npos) {
            return BackendResult{Verdict::AccountDisabled, a.server, "user is disabled at FortiToken Cloud"};
        }
        return BackendResult{Verdict::WrongCredentials, a.server, "wrong code"};
    case 404:
        return BackendResult{Verdict::UnknownUser, a.server, "FortiToken Cloud does not know this user"};
    case 400:
        return BackendResult{Verdict::Outage, a.server,
                             http_detail(400, "FortiToken Cloud refused the request; check realm, vdom and ftc_sn")};
    default:
        return BackendResult{Verdict::Outage, a.server,
                             http_detail(r.status, "unexpected answer from FortiToken Cloud")};
    }
}

BackendResult FtcClient::push(const PushFields& fields, CancelToken* cancel) {
    CancelToken local;
    CancelToken& token = cancel != nullptr ? *cancel : local;
    const auto deadline = Clock::now() + std::chrono::milliseconds(settings_.push_timeout_ms);

    Secret body;
    JsonObjectBuilder json(body);
    json.add("username", fields.username);
    add_scope(json);
    if (!fields.user_ip.empty()) {
        json.add("user_ip", fields.user_ip);
    }
    if (!json.finish()) {
        return BackendResult{Verdict::BadRequest, "", "username is not valid UTF-8"};
    }
    // The push, its polls and any /login share one connection.
    const std::unique_ptr<Transport> via = transport_.series(&token);
    const auto sent_at = Clock::now();
    Answer a;
    if (auto failure = call(*via, "/api/v1/auth", &body, settings_.timeout_ms, nullptr, a)) {
        return *failure;
    }
    if (a.response.error == NetError::Cancelled) {
        return BackendResult{Verdict::PushAbandoned, a.server, "push abandoned"};
    }
    if (a.response.error != NetError::None) {
        return network_failure(a.response, a.server, settings_.caller_controls_timing);
    }
    switch (a.response.status) {
    case 200:
    case 201:
        break;
    case 404:
        return BackendResult{Verdict::PushUnavailable, a.server,
                             "no FortiToken Mobile for this user at FortiToken Cloud, or unknown user"};
    case 403:
        return BackendResult{Verdict::AccountDisabled, a.server, "user is disabled at FortiToken Cloud"};
    case 500:
    case 503:
        return BackendResult{Verdict::PushNotSent, a.server,
                             http_detail(a.response.status, "FortiToken Cloud could not send the push")};
    case 401:
        return BackendResult{Verdict::ApiCredentialsRejected, a.server,
                             "FortiToken Cloud refused a fresh bearer token (HTTP 401)"};
    default:
        return BackendResult{Verdict::Outage, a.server, http_detail(a.response.status, "unexpected answer to a push")};
    }
    const std::string authid = json_string(a.response.body, "authid");
    if (!is_safe_authid(authid)) {
        return BackendResult{Verdict::Outage, a.server, "FortiToken Cloud's push answer has no usable authid"};
    }
    std::string path = "/api/v1/auth/" + authid;
    if (!settings_.vdom.empty()) {
        path += "?vdom=" + percent_encode(settings_.vdom);
    }
    const std::string server = a.url;
    const auto interval = std::chrono::milliseconds(settings_.poll_interval_ms);
    // Polls start every poll_interval (start to start, the first counted
    // from the push's request), so the time each takes does not push the
    // next one later; one slower than poll_interval is followed at once.
    auto next_poll = sent_at + interval;
    for (;;) {
        const auto wake = std::min(next_poll, deadline);
        const auto pause = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
        if (pause.count() > 0 && !token.sleep_for(pause)) {
            return BackendResult{Verdict::PushAbandoned, a.server, "push abandoned"};
        }
        const auto poll_start = Clock::now();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - poll_start);
        if (left.count() <= 0) {
            return BackendResult{Verdict::PushTimedOut, a.server, "push not answered within push_timeout"};
        }
        next_poll = poll_start + interval;
        Answer poll;
        if (auto failure =
                call(*via, path, nullptr, std::min<long>(settings_.timeout_ms, left.count()), &server, poll)) {
            return *failure;
        }
        const HttpResponse& r = poll.response;
        if (r.error == NetError::Cancelled) {
            return BackendResult{Verdict::PushAbandoned, a.server, "push abandoned"};
        }
        if (r.error == NetError::TlsVerify) {
            return network_failure(r, a.server, settings_.caller_controls_timing);
        }
        if (r.error != NetError::None || r.status >= 500) {
            if (r.error != NetError::None && !is_transient(r.error)) {
                return network_failure(r, a.server, settings_.caller_controls_timing);
            }
            logger_.debug("ftc: poll failed (" + std::string(net_error_name(r.error)) + ", HTTP " +
                          std::to_string(r.status) + "); polling again");
            continue;
        }
        if (r.status == 401) {
            return BackendResult{Verdict::ApiCredentialsRejected, a.server,
                                 "FortiToken Cloud refused a fresh bearer token (HTTP 401)"};
        }
        if (r.status != 200) {
            return BackendResult{Verdict::Outage, a.server,
                                 http_detail(r.status, "FortiToken Cloud lost the push (" + authid + ")")};
        }
        const std::string status = json_string(r.body, "status");
        if (status == "authenticated") {
            return BackendResult{Verdict::Accepted, a.server, "push approved"};
        }
        if (status == "rejected") {
            return BackendResult{Verdict::PushRejected, a.server, "push rejected by the user"};
        }
    }
}

}  // namespace pamfac

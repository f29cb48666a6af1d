#include "ftc/ftc_client.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

#include "core/cancel.h"
#include "core/outage.h"
#include "core/text.h"
#include "fac/fac_answer.h"
#include "fac/fac_client.h"
#include "http/json_body.h"
#include "http/url.h"

namespace pamfac {
namespace {

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
           e == NetError::Timeout || e == NetError::Broken || e == NetError::TlsHandshake || e == NetError::NoAnswer;
}

bool body_says(const std::string& body, std::string_view text) {
    return ascii_lower(body).find(text) != std::string::npos;
}

// FortiToken Cloud's documented errors (docs/fac-api.md), matched
// case-insensitively anywhere in the body. None of them is an outage.
std::optional<BackendResult> documented_error(const HttpResponse& r, const std::string& server) {
    if (r.status == 400 || r.status == 404) {
        if (body_says(r.body, "user not found")) {
            return BackendResult{Verdict::UnknownUser, server, "FortiToken Cloud: User not found"};
        }
        if (body_says(r.body, "no token or token was not activated")) {
            return BackendResult{Verdict::NoToken, server,
                                 "FortiToken Cloud: no token, or the token was not activated; assign and activate "
                                 "one for the user"};
        }
        if (body_says(r.body, "auth client not found")) {
            return BackendResult{Verdict::NotUnderstood, server,
                                 "FortiToken Cloud: Auth client not found (HTTP " + std::to_string(r.status) +
                                     "); check ftc_client_id and that the auth client exists"};
        }
        if (body_says(r.body, "realm not assigned")) {
            return BackendResult{Verdict::NotUnderstood, server,
                                 "FortiToken Cloud: Realm not assigned (HTTP " + std::to_string(r.status) +
                                     "); check realm and the auth client's realms"};
        }
    }
    if (r.status == 402) {
        return BackendResult{Verdict::NotUnderstood, server,
                             "FortiToken Cloud: HTTP 402 (" + body_excerpt(r.body) +
                                 "): the FortiToken Cloud account is disabled or out of credit; see its portal"};
    }
    if (r.status == 429) {
        return BackendResult{Verdict::NotUnderstood, server,
                             "FortiToken Cloud: HTTP 429 (" + body_excerpt(r.body) +
                                 "): request limit exceeded (trial accounts: 60 requests in 5 minutes)"};
    }
    return std::nullopt;
}

BackendResult not_understood(const HttpResponse& r, const std::string& server, const char* what) {
    return BackendResult{Verdict::NotUnderstood, server,
                         "FortiToken Cloud: HTTP " + std::to_string(r.status) + " to " + what + " with " +
                             body_excerpt(r.body) + " is not a documented answer; the door stays shut"};
}

// 5xx: an outage of the service only to a request that carried no push.
BackendResult server_error(const HttpResponse& r, const std::string& server, bool carries_push,
                           bool caller_controls_timing, const char* what) {
    RequestKind kind;
    kind.carries_push = carries_push;
    kind.server_error_is_outage = !carries_push;
    if (classify_failure(r, kind, caller_controls_timing) == FailureKind::Outage) {
        return BackendResult{Verdict::Outage, server,
                             "FortiToken Cloud: HTTP " + std::to_string(r.status) + " to " + what};
    }
    return not_understood(r, server, what);
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
    switch (response.status) {
    case 200:
    case 201:
        break;
    case 400:
    case 401:
    case 403:
    case 404:
        // 400 "client secret format is invalid", 401 wrong or expired
        // secret, 404 "client does not exist": never an outage.
        return BackendResult{Verdict::ApiCredentialsRejected, host,
                             "FortiToken Cloud rejected the login (HTTP " + std::to_string(response.status) + ", " +
                                 body_excerpt(response.body) + "); check ftc_client_id and ftc_client_secret"};
    default:
        return server_error(response, host, false, settings_.caller_controls_timing, "/api/v1/login");
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(response.body.c_str(), response.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("access_token") || !doc["access_token"].IsString() ||
        doc["access_token"].GetStringLength() == 0) {
        return BackendResult{Verdict::NotUnderstood, host, "FortiToken Cloud login answer has no access_token"};
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

std::optional<BackendResult> FtcClient::call(Transport& via, const Request& what, Answer& answer) {
    if (auto failure = ensure_token(via, nullptr)) {
        return failure;
    }
    Secret bearer = current_token();
    HttpRequest request;
    request.body = what.body;
    request.timeout_ms = what.timeout_ms;
    request.auth = HttpAuth::Bearer;
    request.bearer = &bearer;
    const std::vector<std::string> one =
        what.only_server ? std::vector<std::string>{*what.only_server} : std::vector<std::string>{};
    const std::vector<std::string>& servers = what.only_server ? one : settings_.servers;
    for (int round = 0; round < 2; ++round) {
        answer.others_untried = false;
        for (std::size_t i = 0; i < servers.size(); ++i) {
            answer.server = server_host(servers[i]);
            answer.url = servers[i];
            request.url = servers[i] + what.path;
            answer.response = via.perform(request);
            if (!allows_failover(answer.response, what.carries_push ? Endpoint::PushAuth : Endpoint::Auth)) {
                answer.others_untried = i + 1 < servers.size();
                break;
            }
        }
        const bool refused = answer.response.error == NetError::None && answer.response.status == 401;
        if (!refused || !what.resend_after_401 || round == 1) {
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
    // A code is never sent twice, not even after a 401 (docs/fac-api.md: a
    // wrong code or a token FTC no longer takes; it does not say which).
    if (auto failure = call(*via, Request{"/api/v1/auth", &body, settings_.timeout_ms, nullptr, false}, a)) {
        return *failure;
    }
    return no_outage_unless_all_tried(read_code_answer(a), a);
}

BackendResult FtcClient::read_code_answer(const Answer& a) {
    const HttpResponse& r = a.response;
    if (r.error != NetError::None) {
        return network_failure(r, a.server, settings_.caller_controls_timing);
    }
    if (auto documented = documented_error(r, a.server)) {
        return *documented;
    }
    switch (r.status) {
    case 200: {
        // A yes must say so: an authid means FTC started a push instead.
        const std::string_view text = trim(r.body);
        if (!text.empty() && (!is_json_object_without_error(text) || !json_string(r.body, "authid").empty())) {
            if (json_string(r.body, "status") == "rejected") {
                return BackendResult{Verdict::WrongCredentials, a.server, "wrong code"};
            }
            return not_understood(r, a.server, "a code check");
        }
        const std::string status = json_string(r.body, "status");
        if (status == "rejected") {
            return BackendResult{Verdict::WrongCredentials, a.server, "wrong code"};
        }
        if (!status.empty() && status != "authenticated" && status != "success") {
            return not_understood(r, a.server, "a code check");
        }
        return BackendResult{Verdict::Accepted, a.server, "accepted"};
    }
    case 401: {
        std::lock_guard<std::mutex> lock(token_mutex_);
        token_.clear();  // the next try logs in afresh, in case the token was the cause
        cache_.forget();
        return BackendResult{Verdict::WrongCredentials, a.server,
                             "FortiToken Cloud answered 401: a wrong code, or a bearer token it no longer takes; "
                             "the code is not sent again and the next try gets a new token"};
    }
    case 403:
        if (body_says(r.body, "disabled")) {
            return BackendResult{Verdict::AccountDisabled, a.server, "user is disabled at FortiToken Cloud"};
        }
        return BackendResult{Verdict::WrongCredentials, a.server, "wrong code"};
    default:
        return server_error(r, a.server, false, settings_.caller_controls_timing, "a code check");
    }
}

// An outage needs every server found down; one left untried may be up.
BackendResult FtcClient::no_outage_unless_all_tried(BackendResult result, const Answer& a) {
    if (result.verdict == Verdict::Outage && a.others_untried) {
        result.verdict = Verdict::NotUnderstood;
        result.detail += "; the other servers were not tried (the request may have reached this one): no outage";
    }
    return result;
}

BackendResult FtcClient::push(const PushFields& fields, CancelToken* cancel) {
    CancelToken local;
    CancelToken& token = cancel != nullptr ? *cancel : local;
    const auto deadline = Clock::now() + std::chrono::milliseconds(settings_.push_timeout_ms);
    // The push, its polls and any /login share one connection.
    const std::unique_ptr<Transport> via = transport_.series(&token);
    const auto sent_at = Clock::now();
    std::string authid;
    Answer a;
    if (auto failure = start_push(*via, fields, authid, a)) {
        return *failure;
    }
    return poll_push(*via, token, authid, a, sent_at, deadline);
}

std::optional<BackendResult> FtcClient::start_push(Transport& via, const PushFields& fields, std::string& authid,
                                                   Answer& a) {
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
    if (auto failure = call(via, Request{"/api/v1/auth", &body, settings_.timeout_ms, nullptr, true, true}, a)) {
        return failure;
    }
    const HttpResponse& r = a.response;
    if (r.error == NetError::Cancelled) {
        return BackendResult{Verdict::PushAbandoned, a.server, "push abandoned"};
    }
    if (r.error != NetError::None) {
        RequestKind kind;
        kind.carries_push = true;
        const FailureKind failure = classify_failure(r, kind, settings_.caller_controls_timing);
        if (failure == FailureKind::Outage || failure == FailureKind::TlsFailure ||
            failure == FailureKind::LocalFailure) {
            return no_outage_unless_all_tried(network_failure(r, a.server, settings_.caller_controls_timing), a);
        }
        return BackendResult{Verdict::PushLost, a.server,
                             "FortiToken Cloud: " + std::string(net_error_name(r.error)) +
                                 " after the push was sent: " + printable(r.detail)};
    }
    if (auto documented = documented_error(r, a.server)) {
        return documented;
    }
    switch (r.status) {
    case 200:
    case 201:
        authid = json_string(r.body, "authid");
        if (!is_safe_authid(authid)) {
            return BackendResult{Verdict::NotUnderstood, a.server,
                                 "FortiToken Cloud's push answer has no usable authid (" + body_excerpt(r.body) + ")"};
        }
        return std::nullopt;
    case 404:
        return BackendResult{Verdict::PushUnavailable, a.server,
                             "no FortiToken Mobile for this user at FortiToken Cloud, or unknown user"};
    case 403:
        return BackendResult{Verdict::AccountDisabled, a.server, "user is disabled at FortiToken Cloud"};
    case 500:
    case 502:
    case 503:
        return BackendResult{Verdict::PushNotSent, a.server,
                             http_detail(r.status, "FortiToken Cloud could not send the push")};
    case 401:
        return BackendResult{Verdict::ApiCredentialsRejected, a.server,
                             "FortiToken Cloud refused a fresh bearer token (HTTP 401)"};
    default:
        return BackendResult{
            Verdict::PushLost, a.server,
            http_detail(r.status, "to the push (" + body_excerpt(r.body) + "): it may have been sent")};
    }
}

BackendResult FtcClient::poll_push(Transport& via, CancelToken& token, const std::string& authid, const Answer& a,
                                   Clock::time_point sent_at, Clock::time_point deadline) {
    std::string path = "/api/v1/auth/" + authid;
    if (!settings_.vdom.empty()) {
        path += "?vdom=" + percent_encode(settings_.vdom);
    }
    const std::string server = a.url;
    auto interval = std::chrono::milliseconds(settings_.poll_interval_ms);
    // One push costs at most push_timeout / poll_interval polls, whatever
    // FTC answers: trial accounts may make 60 requests in 5 minutes.
    const long max_polls = std::max<long>(1, settings_.push_timeout_ms / std::max<long>(1, settings_.poll_interval_ms));
    long polls = 0;
    // Polls start every poll_interval (start to start, the first counted
    // from the push's request), so the time each takes does not push the
    // next one later; one slower than poll_interval is followed at once.
    auto next_poll = sent_at + interval;
    for (;;) {
        const auto wake = polls < max_polls ? std::min(next_poll, deadline) : deadline;
        const auto pause = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
        if (pause.count() > 0 && !token.sleep_for(pause)) {
            return BackendResult{Verdict::PushAbandoned, a.server, "push abandoned"};
        }
        const auto poll_start = Clock::now();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - poll_start);
        if (left.count() <= 0 || polls >= max_polls) {
            return BackendResult{Verdict::PushTimedOut, a.server, "push not answered within push_timeout"};
        }
        next_poll = poll_start + interval;
        ++polls;
        Answer poll;
        if (auto failure = call(
                via, Request{path, nullptr, std::min<long>(settings_.timeout_ms, left.count()), &server, true}, poll)) {
            return failure->verdict == Verdict::Outage ? lost_push(*failure) : *failure;
        }
        const HttpResponse& r = poll.response;
        if (r.error == NetError::Cancelled) {
            return BackendResult{Verdict::PushAbandoned, a.server, "push abandoned"};
        }
        if (r.error == NetError::TlsVerify || r.error == NetError::Local) {
            return network_failure(r, a.server, settings_.caller_controls_timing);
        }
        if (r.error != NetError::None || r.status >= 500) {
            if (r.error != NetError::None && !is_transient(r.error)) {
                return lost_push(network_failure(r, a.server, settings_.caller_controls_timing));
            }
            logger_.debug("ftc: poll failed (" + std::string(net_error_name(r.error)) + ", HTTP " +
                          std::to_string(r.status) + "); polling again");
            continue;
        }
        if (r.status == 429 || r.retry_after_s > 0) {
            // Slower, as FTC asks (Retry-After) or by half.
            const auto asked = std::chrono::milliseconds(r.retry_after_s * 1000);
            interval = std::max(interval * 2, asked);
            next_poll = poll_start + interval;
            logger_.warning("server=" + a.server + " FortiToken Cloud asked to slow down (HTTP " +
                            std::to_string(r.status) + "); polling every " + std::to_string(interval.count()) + " ms");
            if (r.status == 429) {
                continue;
            }
        }
        if (r.status == 401) {
            return BackendResult{Verdict::ApiCredentialsRejected, a.server,
                                 "FortiToken Cloud refused a fresh bearer token (HTTP 401)"};
        }
        if (r.status != 200) {
            return lost_push(BackendResult{Verdict::NotUnderstood, a.server,
                                           http_detail(r.status, "FortiToken Cloud lost the push (" + authid + ")")});
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

// After the push went out, no failure is an outage.
BackendResult FtcClient::lost_push(BackendResult result) {
    result.verdict = Verdict::PushLost;
    result.detail += " (after the push was sent: not an outage)";
    return result;
}

}  // namespace pamfac

// libFuzzer target: how FAC's answers are read (classify_answer,
// allows_failover, normalise_answer_text) and the text helpers that carry
// server bytes into logs and messages (printable, display_safe, log_value).
//
// Input (readable seeds): a first line "STATUS ENDPOINT ERROR [setuid]",
// e.g. "401 auth none", then the body (or, with an error, libcurl's text).
// ENDPOINT: auth, realm, push; ERROR: none, resolve, connect,
// connect_timeout, tls_handshake, tls_verify, timeout, too_large,
// no_answer, broken, cancelled, local, other. Unknown words fall back to
// auth / none. "setuid": the caller controls the process's timing.
//
// Properties: only 200 (and 202 on /auth/, /realmauth/) without a network
// error, with no body or a JSON object reporting no error, is accepted; an
// outage only as the module's definition has it (name, connect, connect
// timeout unless setuid, no answer to a request without a push,
// 502/503/504 and 500 on /auth/ /realmauth/ to a request without a push);
// failover only for connection-level failures and proxy statuses
// (502/503/504; 502 alone on /pushauth/); every log detail and sanitised
// text is free of control characters and valid UTF-8.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/http.h"
#include "core/text.h"
#include "fac/fac_answer.h"
#include "fuzz_check.h"

using fuzzcheck::require;
using pamfac::Endpoint;
using pamfac::NetError;
using pamfac::Verdict;

namespace {

bool clean(std::string_view s) {
    return fuzzcheck::free_of_controls(s) && pamfac::is_valid_utf8(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t eol = input.find('\n');
    const std::string_view head = input.substr(0, eol);
    const std::string_view body = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);

    std::string_view words[4];
    std::size_t pos = 0;
    for (auto& word : words) {
        const std::size_t end = std::min(head.find(' ', pos), head.size());
        word = head.substr(std::min(pos, head.size()), end - std::min(pos, head.size()));
        pos = end + 1;
    }
    long status = 0;
    for (const char c : words[0].substr(0, 9)) {
        if (c < '0' || c > '9') {
            break;
        }
        status = status * 10 + (c - '0');
    }
    const Endpoint endpoint = words[1] == "push"    ? Endpoint::PushAuth
                              : words[1] == "realm" ? Endpoint::RealmAuth
                                                    : Endpoint::Auth;

    pamfac::HttpResponse response;
    response.error = fuzzcheck::error_named(words[2]);
    if (response.error == NetError::None) {
        response.status = status;
        response.body = std::string(body);
    } else {
        response.detail = std::string(body);
    }

    const bool setuid = words[3] == "setuid";
    std::string detail;
    const Verdict verdict = pamfac::classify_answer(response, endpoint, setuid, detail);
    const bool failover = pamfac::allows_failover(response, endpoint);

    const bool ok_status = response.error == NetError::None &&
                           (response.status == 200 || (response.status == 202 && endpoint != Endpoint::PushAuth));
    if (verdict == Verdict::Accepted || verdict == Verdict::AcceptedPasswordChange) {
        require(ok_status, "only 200 (202 for code checks) without a network error is accepted");
        const std::string_view trimmed = pamfac::trim(body);
        require(trimmed.empty() || trimmed.front() == '{', "a yes has no body or a JSON object");
    }
    if (verdict == Verdict::Outage) {
        const NetError e = response.error;
        const bool push = endpoint == Endpoint::PushAuth;
        const bool network = e == NetError::Resolve || e == NetError::Connect ||
                             (e == NetError::ConnectTimeout && !setuid) || (e == NetError::NoAnswer && !push);
        const long s = response.status;
        const bool proxy = e == NetError::None && !push && (s == 502 || s == 503 || s == 504 || s == 500);
        require(network || proxy, "an outage only as the module defines it");
    }
    if (verdict == Verdict::WrongCredentials || verdict == Verdict::AccountDisabled || verdict == Verdict::NoToken ||
        verdict == Verdict::TokenOutOfSync) {
        require(response.error == NetError::None && response.status == 401 && endpoint != Endpoint::PushAuth,
                "user-auth verdicts come from a 401 on /auth/ or /realmauth/");
    }
    if (verdict == Verdict::TlsFailure) {
        require(response.error == NetError::TlsVerify, "a TLS failure verdict comes from a TLS verification error");
    }
    if (failover) {
        const NetError e = response.error;
        const bool connection_level = e == NetError::Resolve || e == NetError::Connect ||
                                      e == NetError::ConnectTimeout || e == NetError::TlsHandshake ||
                                      e == NetError::TlsVerify;
        const bool proxy = e == NetError::None &&
                           (response.status == 502 ||
                            (endpoint != Endpoint::PushAuth && (response.status == 503 || response.status == 504)));
        require(connection_level || proxy, "failover only when the request cannot have reached FAC");
        require(verdict != Verdict::Accepted, "an accepted answer never fails over");
    }
    require(clean(detail), "the log detail is free of control characters and valid UTF-8");

    const std::string text = pamfac::normalise_answer_text(body);
    for (const char c : text) {
        require(c < 'A' || c > 'Z', "normalised answers are lower case");
    }
    require(text.size() <= body.size(), "normalising never grows the text");

    require(clean(pamfac::printable(body)), "printable() output is clean");
    require(clean(pamfac::display_safe(body)), "display_safe() output is clean");
    const std::string logged = pamfac::log_value(body);
    require(clean(logged), "log_value() output is clean");
    if (logged.find(' ') != std::string::npos || logged.find('=') != std::string::npos) {
        require(logged.size() >= 2 && logged.front() == '"' && logged.back() == '"',
                "a log value with blanks or '=' is quoted");
    }
    const std::string_view trimmed = pamfac::trim(body);
    require(pamfac::trim(trimmed) == trimmed, "trim is idempotent");
    return 0;
}

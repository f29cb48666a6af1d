// libFuzzer target: the FAC and FTC clients over a scripted transport,
// i.e. every sequence of answers a server (or a man in the middle with a
// valid certificate) could give: failover, FTC login, token renewal,
// push polling, authid handling.
//
// Input (readable seeds): the first line names the operation: fac-code,
// fac-password, fac-push, ftc-code, ftc-push. The rest is the servers'
// answers in order, separated by lines "===": each answer is a line
// "STATUS ERROR" (ERROR as in fuzz_answer: none, connect, timeout, ...)
// and then its body. When the script runs out, every further request
// fails with a transfer error.
//
// Properties: no crash; FAC: never more requests than servers, a request
// moves on to the next server only after an answer that allows failover,
// a success only after a 200/202 answer; FTC: a success only after a
// 200/201 answer; every BackendResult detail (logged) is free of control
// characters.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"
#include "core/http.h"
#include "core/logger.h"
#include "core/text.h"
#include "fac/fac_answer.h"
#include "fac/fac_client.h"
#include "ftc/ftc_client.h"
#include "fuzz_check.h"

using fuzzcheck::require;
using pamfac::NetError;
using pamfac::Verdict;

namespace {

struct NullLogger final : pamfac::Logger {
    void emit(pamfac::LogLevel /*level*/, const std::string& /*message*/) override {}
};

pamfac::HttpResponse parse_answer(std::string_view text) {
    const std::size_t eol = text.find('\n');
    const std::string_view head = text.substr(0, eol);
    const std::string_view body = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    long status = 0;
    std::size_t i = 0;
    for (; i < head.size() && i < 9 && head[i] >= '0' && head[i] <= '9'; ++i) {
        status = status * 10 + (head[i] - '0');
    }
    const std::string_view rest = i < head.size() ? head.substr(i + 1) : std::string_view();
    pamfac::HttpResponse r;
    r.error = fuzzcheck::error_named(rest);
    if (r.error == NetError::None) {
        r.status = status;
        r.body = std::string(body);
    } else {
        r.detail = std::string(body);
    }
    return r;
}

struct ScriptedTransport final : pamfac::Transport {
    std::vector<pamfac::HttpResponse> answers;
    std::size_t next = 0;
    std::vector<std::string> urls;
    std::vector<pamfac::HttpResponse> given;

    pamfac::HttpResponse perform(const pamfac::HttpRequest& request) override {
        urls.push_back(request.url);
        pamfac::HttpResponse r;
        if (next < answers.size()) {
            r = answers[next++];
        } else {
            r.error = NetError::Other;
            r.detail = "script exhausted";
        }
        given.push_back(r);
        return r;
    }
};

bool any_of_status(const std::vector<pamfac::HttpResponse>& given, long a, long b) {
    return std::any_of(given.begin(), given.end(), [a, b](const pamfac::HttpResponse& r) {
        return r.error == NetError::None && (r.status == a || r.status == b);
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t eol = input.find('\n');
    const std::string_view op = input.substr(0, eol);
    std::string_view script = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);

    ScriptedTransport transport;
    while (!script.empty() && transport.answers.size() < 64) {
        const std::size_t sep = script.find("\n===\n");
        transport.answers.push_back(parse_answer(script.substr(0, sep)));
        script = sep == std::string_view::npos ? std::string_view() : script.substr(sep + 5);
    }

    NullLogger logger;
    const std::string user = "alice";
    const pamfac::Secret password("alice-pw");
    const pamfac::Secret code("123456");
    pamfac::PushFields fields;
    fields.username = user;
    fields.timestamp = "2026-01-01T00:00:00Z";
    fields.account = user;
    fields.user_agent = "pam_fac/fuzz";
    fields.log_message = "sshd login";

    pamfac::BackendResult result;
    if (op.rfind("fac-", 0) == 0) {
        pamfac::FacSettings settings;
        settings.servers = {"https://fac1.example", "https://fac2.example:8443", "https://fac3.example/prefix"};
        settings.timeout_ms = 1000;
        settings.push_timeout_ms = 1000;
        pamfac::FacClient client(settings, transport, logger);
        pamfac::Endpoint endpoint = pamfac::Endpoint::Auth;
        if (op == "fac-push") {
            endpoint = pamfac::Endpoint::PushAuth;
            result = client.push(fields, nullptr);
        } else if (op == "fac-password") {
            result = client.check(pamfac::CodeCheck{&user, &password, nullptr, false});
        } else {
            result = client.check(pamfac::CodeCheck{&user, nullptr, &code, false});
        }
        const std::size_t servers = settings.servers.size();
        if (endpoint != pamfac::Endpoint::PushAuth) {
            require(transport.given.size() <= servers, "at most one request per server");
            for (std::size_t i = 0; i + 1 < transport.given.size(); ++i) {
                require(pamfac::allows_failover(transport.given[i], endpoint),
                        "the next server only after an answer that allows failover");
            }
            if (result.verdict == Verdict::Outage) {
                require(transport.given.size() == servers, "an outage only after every server was tried");
            }
        } else {
            // A push goes out once; it is sent again without its context
            // fields only after a 400, and a 401 is checked with one GET.
            bool resent = false;
            for (std::size_t i = 0; i + 1 < transport.given.size(); ++i) {
                const bool probe = transport.urls[i + 1].find("/fortitokens/") != std::string::npos;
                const pamfac::HttpResponse& r = transport.given[i];
                const bool answered = r.error == NetError::None;
                if (probe) {
                    require(answered && r.status == 401 && i + 2 == transport.given.size(),
                            "the credentials probe only after a 401, and last");
                } else if (answered && r.status == 400 && !resent) {
                    resent = true;
                } else {
                    require(pamfac::allows_failover(r, endpoint),
                            "a push goes to the next server only after an answer that allows failover");
                }
            }
            require(transport.given.size() <= 2 * servers + 1, "a push is sent at most twice per server");
            if (result.verdict == Verdict::Outage) {
                for (const pamfac::HttpResponse& r : transport.given) {
                    require(r.error == NetError::Resolve || r.error == NetError::Connect ||
                                r.error == NetError::ConnectTimeout,
                            "a push is an outage only when no server could be connected to");
                }
            }
        }
        if (result.verdict == Verdict::Accepted || result.verdict == Verdict::AcceptedPasswordChange) {
            const pamfac::HttpResponse& last = transport.given.back();
            require(last.error == NetError::None &&
                        (last.status == 200 || (last.status == 202 && endpoint != pamfac::Endpoint::PushAuth)),
                    "FAC success only on a 200 (or 202) answer");
            const std::string_view body = pamfac::trim(last.body);
            if (!(body.empty() || body.front() == '{')) {
                for (const pamfac::HttpResponse& r : transport.given) {
                    std::fprintf(stderr, "given: error %s status %ld body '%s'\n", pamfac::net_error_name(r.error),
                                 r.status, pamfac::printable(r.body).c_str());
                }
            }
            require(body.empty() || body.front() == '{', "a yes has no body or a JSON object");
        }
    } else {
        pamfac::FtcSettings settings;
        const pamfac::Secret secret("ftc-secret");
        settings.servers = {"https://ftc1.example:9696", "https://ftc2.example"};
        settings.client_id = "client";
        settings.client_secret = &secret;
        settings.timeout_ms = 1000;
        settings.push_timeout_ms = 30;
        settings.poll_interval_ms = 1;
        settings.state_dir = "";  // no token cache: every run starts clean
        pamfac::FtcClient client(settings, transport, logger);
        if (op == "ftc-push") {
            result = client.push(fields, nullptr);
        } else {
            result = client.check(pamfac::CodeCheck{&user, nullptr, &code, false});
        }
        if (result.verdict == Verdict::Accepted) {
            require(any_of_status(transport.given, 200, 201), "FTC success only after a 200 answer");
        }
        for (const std::string& url : transport.urls) {
            require(url.find("..") == std::string::npos && fuzzcheck::free_of_controls(url),
                    "request URLs hold no dot segments or control characters");
        }
    }
    require(fuzzcheck::free_of_controls(result.detail), "result details hold no control characters");
    require(pamfac::is_valid_utf8(result.detail), "result details are valid UTF-8");
    return 0;
}

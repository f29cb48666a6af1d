// The FortiToken Cloud client over a scripted transport: login and the
// cached bearer token, one renewal on a 401, code answers, and push polling.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/cancel.h"
#include "fakes.h"
#include "ftc/ftc_client.h"
#include "ftc/ftc_token_cache.h"
#include "state/state_dir.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

void remove_tree(const std::string& path) {
    const int rc = std::system(("rm -rf '" + path + "'").c_str());
    (void)rc;  // best effort: a leftover temp dir does not change a result
}

struct Rig {
    FakeTransport transport;
    ListLogger logger;
    Secret secret{"client-secret"};
    std::string dir;
    std::string user = "alice";
    FtcSettings settings;

    Rig() {
        char tmpl[] = "/tmp/pamfac-ftc-XXXXXX";
        dir = mkdtemp(tmpl);
        settings.servers = {"https://ftc.test:9696"};
        settings.client_id = "client-1";
        settings.client_secret = &secret;
        settings.state_dir = dir + "/state";
        settings.euid = geteuid();
        settings.poll_interval_ms = 5;
        settings.push_timeout_ms = 2000;
    }
    ~Rig() { remove_tree(dir); }

    BackendResult code(const char* text) {
        FtcClient client(settings, transport, logger);
        Secret code(text);
        return client.check(CodeCheck{&user, nullptr, &code, false});
    }
    BackendResult push(CancelToken* cancel = nullptr) {
        FtcClient client(settings, transport, logger);
        PushFields f;
        f.username = "alice";
        f.user_ip = "203.0.113.5";
        return client.push(f, cancel);
    }
};

HttpResponse login_ok(const char* token = "tok-1", int expires_in = 3600) {
    return http_status(
        201, std::string("{\"access_token\": \"") + token + "\", \"expires_in\": " + std::to_string(expires_in) + "}");
}

void logs_in_then_checks_the_code(void** /*state*/) {
    Rig r;
    r.settings.realm = "corp";
    r.settings.vdom = "root";
    r.settings.sn = "FTKSN1";
    r.transport.responses = {login_ok(), http_status(200, "{\"status\": \"authenticated\"}")};
    const BackendResult res = r.code("123456");
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
    assert_string_equal(r.transport.urls[0].c_str(), "https://ftc.test:9696/api/v1/login");
    assert_non_null(strstr(r.transport.bodies[0].c_str(), "\"client_id\":\"client-1\""));
    assert_string_equal(r.transport.urls[1].c_str(), "https://ftc.test:9696/api/v1/auth");
    assert_string_equal(r.transport.bodies[1].c_str(),
                        "{\"username\":\"alice\",\"token\":\"123456\",\"realm\":\"corp\",\"vdom\":\"root\","
                        "\"sn\":\"FTKSN1\"}");
}

void token_is_cached_between_logins(void** /*state*/) {
    Rig r;
    r.transport.responses = {login_ok(), http_status(200), http_status(200)};
    r.code("123456");
    r.code("654321");  // a new client, as in the next login
    assert_int_equal(r.transport.urls.size(), 3);
    assert_string_equal(r.transport.urls[2].c_str(), "https://ftc.test:9696/api/v1/auth");
    struct stat st {};
    assert_int_equal(stat(r.settings.state_dir.c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

void expired_cached_token_is_not_used(void** /*state*/) {
    Rig r;
    r.transport.responses = {login_ok("short", 30), http_status(200), login_ok("tok-2"), http_status(200)};
    r.code("123456");
    r.code("654321");  // 30 s is inside the renewal margin: log in again
    assert_int_equal(r.transport.urls.size(), 4);
    assert_string_equal(r.transport.urls[2].c_str(), "https://ftc.test:9696/api/v1/login");
}

// A 401 on a code is a wrong code or a token FTC no longer takes: the code
// is never sent again; the next try logs in afresh.
void a_401_on_a_code_is_not_resent(void** /*state*/) {
    Rig r;
    r.transport.responses = {login_ok(), http_status(401), login_ok("tok-2"), http_status(200)};
    assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(Verdict::WrongCredentials));
    assert_int_equal(r.transport.urls.size(), 2);
    assert_int_equal(static_cast<int>(r.code("654321").verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(r.transport.urls.size(), 4);
    assert_string_equal(r.transport.urls[2].c_str(), "https://ftc.test:9696/api/v1/login");
}

void renews_the_token_once_on_401_to_a_push(void** /*state*/) {
    Rig r;
    r.transport.responses = {login_ok(), http_status(401), login_ok("tok-2"), http_status(200, "{\"authid\": \"a1\"}"),
                             http_status(200, "{\"status\": \"authenticated\"}")};
    assert_int_equal(static_cast<int>(r.push().verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(r.transport.urls.size(), 5);

    Rig twice;
    twice.transport.responses = {login_ok(),       http_status(401),  login_ok("tok-2"),
                                 http_status(401), login_ok("tok-3"), http_status(200)};
    assert_int_equal(static_cast<int>(twice.push().verdict), static_cast<int>(Verdict::ApiCredentialsRejected));
    assert_int_equal(twice.transport.urls.size(), 4);
}

void login_rejected(void** /*state*/) {
    Rig r;
    r.transport.responses = {http_status(401, "{\"error\": \"invalid client credentials\"}")};
    const BackendResult res = r.code("123456");
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::ApiCredentialsRejected));
    assert_non_null(strstr(res.detail.c_str(), "ftc_client_secret"));
    assert_null(strstr(res.detail.c_str(), "client-secret"));
}

void code_answers(void** /*state*/) {
    const struct {
        HttpResponse answer;
        Verdict verdict;
    } cases[] = {
        {http_status(403, "{\"error\": \"invalid token\"}"), Verdict::WrongCredentials},
        {http_status(403, "{\"error\": \"user disabled\"}"), Verdict::AccountDisabled},
        {http_status(404, "{\"error\": \"user not found\"}"), Verdict::UnknownUser},
        {http_status(200, "{\"status\": \"rejected\"}"), Verdict::WrongCredentials},
        // FortiToken Cloud's documented errors (docs/fac-api.md): none is an outage.
        {http_status(400, "{\"error\": \"User not found\"}"), Verdict::UnknownUser},
        {http_status(400, "{\"message\": \"No token or token was not activated\"}"), Verdict::NoToken},
        {http_status(400, "Auth client not found"), Verdict::NotUnderstood},
        {http_status(400, "{\"error\": \"Realm not assigned\"}"), Verdict::NotUnderstood},
        {http_status(402, "{\"error\": \"Account was disabled\"}"), Verdict::NotUnderstood},
        {http_status(429, "{\"error\": \"Trial request limit exceeded\"}"), Verdict::NotUnderstood},
        {http_status(400), Verdict::NotUnderstood},
        {http_status(404, "<html>Not Found</html>"), Verdict::NotUnderstood},
        // A yes must say so.
        {http_status(200, "{\"authid\": \"a1\"}"), Verdict::NotUnderstood},
        {http_status(200, "{\"error\": \"invalid token\"}"), Verdict::NotUnderstood},
        {http_status(200, "<html>portal</html>"), Verdict::NotUnderstood},
        {http_status(200, "{\"status\": \"waiting\"}"), Verdict::NotUnderstood},
        {http_status(200, "{\"status\": \"authenticated\"}"), Verdict::Accepted},
        {http_status(200), Verdict::Accepted},
        {http_status(500), Verdict::Outage},
        {http_status(503), Verdict::Outage},
        {net_error(NetError::Connect), Verdict::Outage},
        {net_error(NetError::Local), Verdict::LocalFailure},
        {net_error(NetError::TlsVerify), Verdict::TlsFailure},
        {net_error(NetError::Timeout), Verdict::NotUnderstood},  // it may have reached FTC
    };
    for (const auto& c : cases) {
        Rig r;
        r.transport.responses = {login_ok(), c.answer};
        assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(c.verdict));
    }
}

void push_polls_until_approved(void** /*state*/) {
    Rig r;
    r.settings.vdom = "root vdom";
    r.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"1234-abcd\"}"),
                             http_status(200, "{\"status\": \"waiting\"}"), net_error(NetError::Broken),
                             http_status(200, "{\"status\": \"authenticated\"}")};
    const BackendResult res = r.push();
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
    assert_string_equal(r.transport.bodies[1].c_str(),
                        "{\"username\":\"alice\",\"vdom\":\"root vdom\",\"user_ip\":\"203.0.113.5\"}");
    assert_int_equal(r.transport.urls.size(), 5);
    assert_string_equal(r.transport.urls[2].c_str(), "https://ftc.test:9696/api/v1/auth/1234-abcd?vdom=root%20vdom");
}

void push_rejected_and_unsendable(void** /*state*/) {
    Rig r;
    r.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}"),
                             http_status(200, "{\"status\": \"rejected\"}")};
    assert_int_equal(static_cast<int>(r.push().verdict), static_cast<int>(Verdict::PushRejected));
    for (long status : {500L, 503L}) {
        Rig n;
        n.transport.responses = {login_ok(), http_status(status)};
        assert_int_equal(static_cast<int>(n.push().verdict), static_cast<int>(Verdict::PushNotSent));
    }
    Rig none;
    none.transport.responses = {login_ok(), http_status(404)};
    assert_int_equal(static_cast<int>(none.push().verdict), static_cast<int>(Verdict::PushUnavailable));
}

// Trial accounts may make 60 requests in 5 minutes: a 429 or a Retry-After
// slows the polls down, and one push never costs more than
// push_timeout / poll_interval polls.
void polls_back_off_and_are_bounded(void** /*state*/) {
    Rig slow;
    slow.settings.poll_interval_ms = 10;
    slow.settings.push_timeout_ms = 300;
    slow.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}")};
    for (int i = 0; i < 100; ++i) {
        slow.transport.responses.push_back(http_status(429, "{\"error\": \"Trial request limit exceeded\"}"));
    }
    assert_int_equal(static_cast<int>(slow.push().verdict), static_cast<int>(Verdict::PushTimedOut));
    const std::size_t polls = slow.transport.urls.size() - 2;
    assert_true(polls >= 2 && polls <= 6);  // 10, 20, 40, 80, 160 ms apart; 30 without backing off

    Rig asked;
    asked.settings.poll_interval_ms = 10;
    asked.settings.push_timeout_ms = 400;
    HttpResponse wait = http_status(200, "{\"status\": \"waiting\"}");
    wait.retry_after_s = 1;
    asked.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}"), wait, wait, wait};
    assert_int_equal(static_cast<int>(asked.push().verdict), static_cast<int>(Verdict::PushTimedOut));
    assert_int_equal(asked.transport.urls.size(), 3);  // the next poll would come after push_timeout

    Rig capped;
    capped.settings.poll_interval_ms = 100;
    capped.settings.push_timeout_ms = 300;
    capped.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}")};
    for (int i = 0; i < 20; ++i) {
        capped.transport.responses.push_back(net_error(NetError::Connect));  // each poll fails at once
    }
    assert_int_equal(static_cast<int>(capped.push().verdict), static_cast<int>(Verdict::PushTimedOut));
    assert_true(capped.transport.urls.size() - 2 <= 3);
}

// Once the push went out, nothing is an outage.
void a_push_that_went_out_is_never_an_outage(void** /*state*/) {
    for (const HttpResponse& after : {http_status(404), net_error(NetError::Other), http_status(400)}) {
        Rig r;
        r.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}"), after};
        const Verdict v = r.push().verdict;
        assert_int_equal(static_cast<int>(v), static_cast<int>(Verdict::PushLost));
    }
    Rig start;  // the push request itself got no answer: it may have gone out
    start.transport.responses = {login_ok(), net_error(NetError::NoAnswer)};
    assert_int_equal(static_cast<int>(start.push().verdict), static_cast<int>(Verdict::PushLost));
    Rig held;  // a proxy held the push, then gave up
    held.transport.responses = {login_ok(), http_status(504)};
    assert_int_equal(static_cast<int>(held.push().verdict), static_cast<int>(Verdict::PushLost));
}

// Two servers: the next one only when the request reached none; a push is
// never sent twice (a 503 or 504 may come after it went out).
void failover_only_when_no_server_was_reached(void** /*state*/) {
    Rig code;
    code.settings.servers.push_back("https://ftc2.test");
    code.transport.responses = {login_ok(), net_error(NetError::Connect), http_status(200)};
    assert_int_equal(static_cast<int>(code.code("123456").verdict), static_cast<int>(Verdict::Accepted));
    assert_string_equal(code.transport.urls[2].c_str(), "https://ftc2.test/api/v1/auth");

    Rig once;
    once.settings.servers.push_back("https://ftc2.test");
    once.transport.responses = {login_ok(), net_error(NetError::Timeout), http_status(200)};
    assert_int_equal(static_cast<int>(once.code("123456").verdict), static_cast<int>(Verdict::NotUnderstood));
    assert_int_equal(once.transport.urls.size(), 2);

    for (long status : {503L, 504L}) {
        Rig push;
        push.settings.servers.push_back("https://ftc2.test");
        push.transport.responses = {login_ok(), http_status(status), http_status(200, "{\"authid\": \"a2\"}")};
        assert_int_not_equal(static_cast<int>(push.push().verdict), static_cast<int>(Verdict::Accepted));
        assert_int_equal(push.transport.urls.size(), 2);
    }
}

void push_times_out(void** /*state*/) {
    Rig r;
    r.settings.push_timeout_ms = 60;
    r.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}")};
    for (int i = 0; i < 200; ++i) {
        r.transport.responses.push_back(http_status(200, "{\"status\": \"waiting\"}"));
    }
    const auto start = std::chrono::steady_clock::now();
    assert_int_equal(static_cast<int>(r.push().verdict), static_cast<int>(Verdict::PushTimedOut));
    assert_true(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

void unsafe_authid_is_refused(void** /*state*/) {
    Rig r;
    r.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"../../admin\"}")};
    assert_int_equal(static_cast<int>(r.push().verdict), static_cast<int>(Verdict::NotUnderstood));
    assert_int_equal(r.transport.urls.size(), 2);
}

void cancelled_push_stops_polling(void** /*state*/) {
    Rig r;
    r.settings.poll_interval_ms = 10000;
    r.transport.responses = {login_ok(), http_status(200, "{\"authid\": \"a1\"}")};
    CancelToken token;
    token.cancel();
    const auto start = std::chrono::steady_clock::now();
    // Already cancelled: the request itself is not cancelled by a fake
    // transport, but the wait before the first poll ends at once.
    assert_int_equal(static_cast<int>(r.push(&token).verdict), static_cast<int>(Verdict::PushAbandoned));
    assert_true(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

Verdict push_verdict(std::deque<HttpResponse> responses) {
    Rig r;
    r.transport.responses = std::move(responses);
    return r.push().verdict;
}

#define assert_verdict(got, want) assert_int_equal(static_cast<int>(got), static_cast<int>(Verdict::want))

// Requests that cannot be built, logins and pushes that fail on the way,
// polls that fail: each ends in its own verdict, and none of them lets a
// login through.
void failures_on_the_way_keep_the_door_shut(void** /*state*/) {
    Rig r;
    Secret password("pw");
    Secret code("123456");
    FtcClient client(r.settings, r.transport, r.logger);
    assert_verdict(client.check(CodeCheck{&r.user, &password, &code, false}).verdict, BadRequest);
    r.user = "al\xffice";
    assert_verdict(r.code("123456").verdict, BadRequest);
    PushFields odd_push;
    odd_push.username = r.user;
    assert_verdict(FtcClient(r.settings, r.transport, r.logger).push(odd_push, nullptr).verdict, BadRequest);
    assert_true(r.transport.urls.empty());  // nothing was sent
    Rig odd_id;
    odd_id.settings.client_id = "client-\xff";
    assert_verdict(odd_id.code("123456").verdict, BadRequest);
    assert_true(odd_id.transport.urls.empty());  // nothing was sent

    // The login itself: no server reached, or a server error.
    Rig down;
    down.transport.responses = {net_error(NetError::Connect)};
    assert_verdict(down.code("123456").verdict, Outage);
    Rig broken;
    broken.transport.responses = {http_status(500, "oops")};
    assert_verdict(broken.code("123456").verdict, Outage);

    // A rejected code inside an answer that is no plain yes.
    Rig rejected;
    rejected.transport.responses = {login_ok(), http_status(200, "{\"status\":\"rejected\",\"error\":\"bad token\"}")};
    assert_verdict(rejected.code("123456").verdict, WrongCredentials);

    // A code check that got a server error from the first of two servers
    // may have been seen there: not an outage, and the second is not asked.
    Rig two;
    two.settings.servers = {"https://ftc1.test", "https://ftc2.test"};
    two.transport.responses = {login_ok(), http_status(500, "busy")};
    const BackendResult res = two.code("123456");
    assert_verdict(res.verdict, NotUnderstood);
    assert_non_null(std::strstr(res.detail.c_str(), "the other servers were not tried"));
    assert_int_equal(two.transport.urls.size(), 2);

    // Pushes: not sent (no server), a disabled user, and polls that fail.
    assert_verdict(push_verdict({login_ok(), net_error(NetError::Connect)}), Outage);
    assert_verdict(push_verdict({login_ok(), http_status(403)}), AccountDisabled);
    const HttpResponse sent = http_status(200, "{\"authid\": \"a1\"}");
    assert_verdict(push_verdict({login_ok(), sent, net_error(NetError::Cancelled)}), PushAbandoned);
    assert_verdict(push_verdict({login_ok(), sent, net_error(NetError::TlsVerify)}), TlsFailure);
    // A poll refused twice (the token renewed in between): the API client, not the user.
    assert_verdict(push_verdict({login_ok(), sent, http_status(401), login_ok("tok-2"), http_status(401)}),
                   ApiCredentialsRejected);
    // The renewal after a refused poll reaches no server: the push is lost, never an outage.
    assert_verdict(push_verdict({login_ok(), sent, http_status(401), net_error(NetError::Connect)}), PushLost);
}

// Answers by URL, from any thread, each request taking `delay_ms`; records
// when each request started and through which series it came.
struct TimedFtc final : Transport {
    using Clock = std::chrono::steady_clock;
    int delay_ms = 0;
    int waiting_polls = 0;  // polls answered "waiting" before "authenticated"
    std::mutex mutex;
    int logins = 0;
    std::vector<Clock::time_point> poll_starts;
    std::vector<int> series_of_request;  // 0: perform() called directly
    int series_made = 0;

    HttpResponse perform(const HttpRequest& request) override { return answer(request, 0); }

    std::unique_ptr<Transport> series(CancelToken* /*cancel*/) override {
        const std::lock_guard<std::mutex> lock(mutex);
        return std::make_unique<Series>(*this, ++series_made);
    }

private:
    struct Series final : Transport {
        Series(TimedFtc& owner, int id) : owner(owner), id(id) {}
        HttpResponse perform(const HttpRequest& request) override { return owner.answer(request, id); }
        TimedFtc& owner;
        int id;
    };

    HttpResponse answer(const HttpRequest& request, int series_id) {
        const auto started = Clock::now();
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        const std::lock_guard<std::mutex> lock(mutex);
        series_of_request.push_back(series_id);
        if (request.url.find("/api/v1/login") != std::string::npos) {
            ++logins;
            return login_ok();
        }
        if (request.url.find("/api/v1/auth/") != std::string::npos) {
            poll_starts.push_back(started);
            const bool approved = static_cast<int>(poll_starts.size()) > waiting_polls;
            return http_status(200, approved ? "{\"status\": \"authenticated\"}" : "{\"status\": \"waiting\"}");
        }
        if (request.body != nullptr && request.body->view().find("\"token\"") != std::string_view::npos) {
            return http_status(200, "{\"status\": \"authenticated\"}");
        }
        return http_status(201, "{\"authid\": \"a-1\"}");
    }
};

// autopush: the push runs on its own thread while the user's code is
// checked on the caller's, through the same client and its token.
void push_and_code_at_once_share_one_login(void** /*state*/) {
    Rig r;
    TimedFtc transport;
    transport.delay_ms = 50;  // both threads need the token while /login is in flight
    transport.waiting_polls = 2;
    FtcClient client(r.settings, transport, r.logger);
    BackendResult pushed;
    std::thread push_thread([&] {
        PushFields f;
        f.username = "alice";
        pushed = client.push(f, nullptr);
    });
    Secret code("123456");
    const BackendResult checked = client.check(CodeCheck{&r.user, nullptr, &code, false});
    push_thread.join();
    assert_int_equal(static_cast<int>(checked.verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(static_cast<int>(pushed.verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(transport.logins, 1);
}

// The push, its /login and every poll go through one series, so that the
// real transport keeps one connection for all of them.
void push_requests_share_one_series(void** /*state*/) {
    Rig r;
    TimedFtc transport;
    transport.waiting_polls = 3;
    FtcClient client(r.settings, transport, r.logger);
    PushFields f;
    f.username = "alice";
    assert_int_equal(static_cast<int>(client.push(f, nullptr).verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(transport.series_made, 1);
    assert_int_equal(transport.series_of_request.size(), 6);  // login, push, 4 polls
    for (int id : transport.series_of_request) {
        assert_int_equal(id, 1);
    }
}

// Polls start every poll_interval from the push, however long each takes:
// slow answers must not stretch the interval (nor bunch polls up).
void polls_keep_their_schedule(void** /*state*/) {
    Rig r;
    r.settings.poll_interval_ms = 100;
    TimedFtc transport;
    transport.delay_ms = 80;
    transport.waiting_polls = 4;
    FtcClient client(r.settings, transport, r.logger);
    PushFields f;
    f.username = "alice";
    const auto start = TimedFtc::Clock::now();
    assert_int_equal(static_cast<int>(client.push(f, nullptr).verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(transport.poll_starts.size(), 5);
    // The login and the push take 160 ms, so the first poll is late; from
    // there each starts 100 ms after the one before (with the interval
    // counted from each answer they would be 180 ms apart).
    for (std::size_t i = 1; i < transport.poll_starts.size(); ++i) {
        const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(transport.poll_starts[i] -
                                                                               transport.poll_starts[i - 1]);
        assert_true(gap.count() >= 98);  // never sooner than poll_interval
    }
    const auto last = std::chrono::duration_cast<std::chrono::milliseconds>(transport.poll_starts.back() - start);
    assert_true(last.count() < 800);  // 560 on schedule; 980 when each interval starts after the answer
}

// The bearer token's cache: what it cannot trust it does not use, what it
// cannot write it says, and the token is still used for this login.
void token_cache_refuses_what_it_cannot_trust(void** /*state*/) {
    char tmpl[] = "/tmp/pamfac-cache-XXXXXX";
    const std::string base = mkdtemp(tmpl);
    const std::string dir = base + "/state";
    ListLogger log;
    FtcTokenCache cache(dir, "https://ftc.test", "client-1", geteuid(), log);
    const std::string record = dir + "/" + state_record_name("ftc-token-", std::string("https://ftc.test\nclient-1"));

    cache.store(Secret("tok-1"), 10000);
    assert_true(cache.load(1000).has_value());
    for (const char* contents :
         {"not json", "{\"access_token\":\"tok-1\"}", "{\"access_token\":1,\"expires_at\":10000}"}) {
        FILE* f = std::fopen(record.c_str(), "w");
        std::fputs(contents, f);
        std::fclose(f);
        assert_false(cache.load(1000).has_value());
    }

    cache.store(Secret("tok-\xff"), 10000);  // not UTF-8: used by the caller, never cached
    assert_false(cache.load(1000).has_value());

    cache.forget();
    assert_int_equal(mkdir(record.c_str(), 0700), 0);  // a directory where the record goes
    assert_int_equal(mkdir((record + "/x").c_str(), 0700), 0);
    cache.store(Secret("tok-2"), 10000);
    assert_false(log.lines.empty());
    assert_non_null(strstr(log.lines.back().second.c_str(), "the FortiToken Cloud token is not cached"));

    assert_int_equal(chmod(dir.c_str(), 0777), 0);
    log.lines.clear();
    cache.store(Secret("tok-3"), 10000);
    assert_false(log.lines.empty());
    assert_false(cache.load(1000).has_value());
    remove_tree(base);
}

void state_dir_rules(void** /*state*/) {
    char tmpl[] = "/tmp/pamfac-state-XXXXXX";
    const std::string base = mkdtemp(tmpl);
    const std::string dir = base + "/state";
    assert_null(prepare_state_dir(dir, geteuid()).has_value() ? "error" : nullptr);
    assert_null(replace_state_file(dir, "rec", "hello").has_value() ? "error" : nullptr);
    const auto read = read_state_file(dir, "rec", geteuid());
    assert_true(read.has_value());
    assert_string_equal(read->c_str(), "hello");
    struct stat st {};
    stat((dir + "/rec").c_str(), &st);
    assert_int_equal(st.st_mode & 0777, 0600);

    chmod(dir.c_str(), 0777);
    assert_true(prepare_state_dir(dir, geteuid()).has_value());
    chmod(dir.c_str(), 0700);
    assert_true(prepare_state_dir(dir, geteuid() + 1).has_value());  // owned by someone else
    assert_false(read_state_file(dir, "rec", geteuid() + 1).has_value());
    chmod((dir + "/rec").c_str(), 0644);
    assert_false(read_state_file(dir, "rec", geteuid()).has_value());
    assert_int_equal(symlink(dir.c_str(), (base + "/link").c_str()), 0);
    assert_true(prepare_state_dir(base + "/link", geteuid()).has_value());
    remove_tree(base);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logs_in_then_checks_the_code),
        cmocka_unit_test(token_is_cached_between_logins),
        cmocka_unit_test(expired_cached_token_is_not_used),
        cmocka_unit_test(a_401_on_a_code_is_not_resent),
        cmocka_unit_test(renews_the_token_once_on_401_to_a_push),
        cmocka_unit_test(login_rejected),
        cmocka_unit_test(code_answers),
        cmocka_unit_test(push_polls_until_approved),
        cmocka_unit_test(push_rejected_and_unsendable),
        cmocka_unit_test(polls_back_off_and_are_bounded),
        cmocka_unit_test(a_push_that_went_out_is_never_an_outage),
        cmocka_unit_test(failover_only_when_no_server_was_reached),
        cmocka_unit_test(push_times_out),
        cmocka_unit_test(unsafe_authid_is_refused),
        cmocka_unit_test(cancelled_push_stops_polling),
        cmocka_unit_test(failures_on_the_way_keep_the_door_shut),
        cmocka_unit_test(push_and_code_at_once_share_one_login),
        cmocka_unit_test(push_requests_share_one_series),
        cmocka_unit_test(polls_keep_their_schedule),
        cmocka_unit_test(state_dir_rules),
        cmocka_unit_test(token_cache_refuses_what_it_cannot_trust),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// The FAC client over a scripted transport: which URL each request goes
// to, what the body holds, and when it moves on to the next server.
#include "cmocka_cpp.h"

#include <rapidjson/document.h>

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "fac/fac_client.h"
#include "fakes.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

struct Rig {
    FakeTransport transport;
    ListLogger logger;
    FacSettings settings{{"https://fac1.test", "https://fac2.test:8443/prefix"}, "", 10000, 60000, "", 0, 0};
    std::string user = "alice";

    BackendResult code(const char* code_text, const char* password = nullptr) {
        FacClient client(settings, transport, logger);
        Secret code(code_text);
        Secret pw(password ? password : "");
        return client.check(CodeCheck{&user, password ? &pw : nullptr, &code, false});
    }
    BackendResult push() {
        FacClient client(settings, transport, logger);
        PushFields f;
        f.username = "alice";
        f.account = "alice";
        f.timestamp = "2026-01-01T00:00:00Z";
        f.user_agent = "pam_fac/test";
        f.log_message = "sshd login";
        f.user_ip = "203.0.113.5";
        return client.push(f, nullptr);
    }
};

rapidjson::Document parse(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    assert_false(d.HasParseError());
    return d;
}

void first_server_answers(void** /*state*/) {
    Rig r;
    r.transport.responses = {http_status(200)};
    const BackendResult res = r.code("123456");
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(r.transport.urls.size(), 1);
    assert_string_equal(r.transport.urls[0].c_str(), "https://fac1.test/api/v1/auth/");
    assert_string_equal(res.server.c_str(), "fac1.test");
    const auto body = parse(r.transport.bodies[0]);
    assert_string_equal(body["username"].GetString(), "alice");
    assert_string_equal(body["token_code"].GetString(), "123456");
    assert_false(body.HasMember("password"));
    assert_false(body.HasMember("realm"));
    assert_int_equal(r.transport.timeouts[0], 10000);
}

void realm_uses_realmauth(void** /*state*/) {
    Rig r;
    r.settings.realm = "corp";
    r.transport.responses = {http_status(200)};
    r.code("123456", "pw");
    assert_string_equal(r.transport.urls[0].c_str(), "https://fac1.test/api/v1/realmauth/");
    const auto body = parse(r.transport.bodies[0]);
    assert_string_equal(body["realm"].GetString(), "corp");
    assert_string_equal(body["password"].GetString(), "pw");
}

void fails_over_on_connection_failures(void** /*state*/) {
    for (NetError e : {NetError::Resolve, NetError::Connect, NetError::ConnectTimeout, NetError::TlsHandshake}) {
        Rig r;
        r.transport.responses = {net_error(e), http_status(200)};
        const BackendResult res = r.code("123456");
        assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
        assert_int_equal(r.transport.urls.size(), 2);
        assert_string_equal(r.transport.urls[1].c_str(), "https://fac2.test:8443/prefix/api/v1/auth/");
        assert_string_equal(res.server.c_str(), "fac2.test");
    }
}

void fails_over_on_proxy_errors(void** /*state*/) {
    for (long status : {502L, 503L, 504L}) {
        Rig r;
        r.transport.responses = {http_status(status), http_status(200)};
        assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(Verdict::Accepted));
        assert_int_equal(r.transport.urls.size(), 2);
    }
}

void never_sends_a_code_twice(void** /*state*/) {
    // Each of these may mean FAC saw the code: no second server.
    const HttpResponse answers[] = {http_status(401, "User authentication failed"),
                                    http_status(500),
                                    http_status(400),
                                    http_status(404, "User does not exist"),
                                    net_error(NetError::Timeout),
                                    net_error(NetError::Broken),
                                    net_error(NetError::TooLarge),
                                    http_status(302),
                                    http_status(403),
                                    http_status(401, "")};
    for (const HttpResponse& answer : answers) {
        Rig r;
        r.transport.responses = {answer, http_status(200)};
        const BackendResult res = r.code("123456");
        assert_int_equal(r.transport.urls.size(), 1);
        assert_int_not_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
    }
}

void all_servers_down_is_unreachable(void** /*state*/) {
    Rig r;
    r.transport.responses = {net_error(NetError::Connect), net_error(NetError::ConnectTimeout)};
    const BackendResult res = r.code("123456");
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Outage));
    assert_non_null(strstr(res.detail.c_str(), "fac1.test"));
    assert_non_null(strstr(res.detail.c_str(), "fac2.test"));
}

// An outage is every server down; one that may have seen the request, or
// answered something else, makes it no outage.
void outage_only_when_every_server_is_down(void** /*state*/) {
    Rig proxies;
    proxies.transport.responses = {http_status(502), http_status(504)};
    assert_int_equal(static_cast<int>(proxies.code("123456").verdict), static_cast<int>(Verdict::Outage));

    Rig first_closed;  // no answer from the first: the second is not tried, so not all are down
    first_closed.transport.responses = {net_error(NetError::NoAnswer), net_error(NetError::Connect)};
    assert_int_equal(static_cast<int>(first_closed.code("123456").verdict), static_cast<int>(Verdict::NotUnderstood));
    assert_int_equal(first_closed.transport.urls.size(), 1);

    Rig last_closed;
    last_closed.transport.responses = {net_error(NetError::Connect), net_error(NetError::NoAnswer)};
    assert_int_equal(static_cast<int>(last_closed.code("123456").verdict), static_cast<int>(Verdict::Outage));

    Rig setuid;
    setuid.settings.caller_controls_timing = true;
    setuid.transport.responses = {net_error(NetError::ConnectTimeout), net_error(NetError::Connect)};
    assert_int_equal(static_cast<int>(setuid.code("123456").verdict), static_cast<int>(Verdict::NotUnderstood));
    assert_int_equal(setuid.transport.urls.size(), 2);

    Rig local;  // this process has no sockets left: the other server would not help
    local.transport.responses = {net_error(NetError::Local), net_error(NetError::Connect)};
    assert_int_equal(static_cast<int>(local.code("123456").verdict), static_cast<int>(Verdict::LocalFailure));
    assert_int_equal(local.transport.urls.size(), 1);
}

void a_tls_failure_anywhere_is_reported_as_tls(void** /*state*/) {
    Rig r;
    r.transport.responses = {net_error(NetError::TlsVerify), net_error(NetError::Connect)};
    assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(Verdict::TlsFailure));
    Rig later;
    later.transport.responses = {net_error(NetError::Connect), net_error(NetError::TlsVerify)};
    assert_int_equal(static_cast<int>(later.code("123456").verdict), static_cast<int>(Verdict::TlsFailure));
}

void push_body_and_timeout(void** /*state*/) {
    Rig r;
    r.settings.realm = "corp";
    r.transport.responses = {http_status(200)};
    const BackendResult res = r.push();
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
    assert_string_equal(r.transport.urls[0].c_str(), "https://fac1.test/api/v1/pushauth/");
    assert_int_equal(r.transport.timeouts[0], 60000);
    const auto body = parse(r.transport.bodies[0]);
    assert_string_equal(body["username"].GetString(), "alice");
    assert_string_equal(body["realm"].GetString(), "corp");
    assert_string_equal(body["user_ip"].GetString(), "203.0.113.5");
    assert_string_equal(body["timestamp"].GetString(), "2026-01-01T00:00:00Z");
    assert_string_equal(body["account"].GetString(), "alice");
    assert_string_equal(body["user_agent"].GetString(), "pam_fac/test");
    assert_string_equal(body["log_message"].GetString(), "sshd login");
}

void push_is_never_sent_twice(void** /*state*/) {
    for (long status : {500L, 503L, 504L, 404L}) {
        Rig r;
        r.transport.responses = {http_status(status), http_status(200)};
        const BackendResult res = r.push();
        assert_int_equal(r.transport.urls.size(), 1);
        assert_int_not_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::Accepted));
    }
    Rig timeout;
    timeout.transport.responses = {net_error(NetError::Timeout), http_status(200)};
    assert_int_equal(static_cast<int>(timeout.push().verdict), static_cast<int>(Verdict::PushTimedOut));
    assert_int_equal(timeout.transport.urls.size(), 1);
}

// A 401 on /pushauth/ is the user's "no" or rejected API credentials: one
// authenticated GET on the same server tells which.
void push_401_is_checked_with_one_request(void** /*state*/) {
    Rig no;
    no.transport.responses = {http_status(401), http_status(200, "{\"objects\": []}")};
    assert_int_equal(static_cast<int>(no.push().verdict), static_cast<int>(Verdict::PushRejected));
    assert_int_equal(no.transport.urls.size(), 2);
    assert_string_equal(no.transport.urls[1].c_str(), "https://fac1.test/api/v1/fortitokens/?limit=1");
    assert_true(no.transport.bodies[1].empty());  // a GET

    for (long status : {401L, 403L}) {
        Rig key;
        key.transport.responses = {http_status(401), http_status(status)};
        const BackendResult res = key.push();
        assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::ApiCredentialsRejected));
        assert_non_null(strstr(res.detail.c_str(), "api_key"));
        assert_int_equal(key.transport.urls.size(), 2);
    }
}

// Older FAC versions refuse the push's context fields with a 400: the push
// goes once more with the user name alone (a 400 sent nothing).
void push_context_fields_refused_sends_plain_push(void** /*state*/) {
    Rig r;
    r.transport.responses = {http_status(400, "{\"error\": \"unknown field\"}"), http_status(200)};
    assert_int_equal(static_cast<int>(r.push().verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(r.transport.urls.size(), 2);
    assert_string_equal(r.transport.urls[1].c_str(), "https://fac1.test/api/v1/pushauth/");
    const auto plain = parse(r.transport.bodies[1]);
    assert_string_equal(plain["username"].GetString(), "alice");
    assert_true(plain.HasMember("user_ip"));
    assert_false(plain.HasMember("timestamp") || plain.HasMember("account") || plain.HasMember("user_agent") ||
                 plain.HasMember("log_message"));
    bool logged = false;
    for (const auto& [level, line] : r.logger.lines) {
        logged = logged || (level == LogLevel::Warning && strstr(line.c_str(), "context fields") != nullptr);
    }
    assert_true(logged);

    // Once only; and a resend that finds no server is no outage: FAC answered.
    Rig twice;
    twice.transport.responses = {http_status(400), http_status(400), http_status(200)};
    assert_int_not_equal(static_cast<int>(twice.push().verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(twice.transport.urls.size(), 2);
    Rig gone;
    gone.transport.responses = {http_status(400), net_error(NetError::Connect), net_error(NetError::Connect)};
    assert_int_equal(static_cast<int>(gone.push().verdict), static_cast<int>(Verdict::NotUnderstood));
}

void push_fails_over_when_not_sent(void** /*state*/) {
    Rig r;
    r.transport.responses = {net_error(NetError::Connect), http_status(502), http_status(200)};
    r.settings.servers.push_back("https://fac3.test");
    assert_int_equal(static_cast<int>(r.push().verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(r.transport.urls.size(), 3);
}

void invalid_utf8_password_is_not_sent(void** /*state*/) {
    Rig r;
    const BackendResult res = r.code("123456", "bad\xff");
    assert_int_equal(static_cast<int>(res.verdict), static_cast<int>(Verdict::BadRequest));
    assert_true(r.transport.urls.empty());
}

void concatenated_form(void** /*state*/) {
    Rig r;
    r.transport.responses = {http_status(200)};
    FacClient client(r.settings, r.transport, r.logger);
    Secret both("pw123456");
    client.check(CodeCheck{&r.user, &both, nullptr, true});
    const auto body = parse(r.transport.bodies[0]);
    assert_string_equal(body["password"].GetString(), "pw123456");
    assert_string_equal(body["token_code"].GetString(), "");
}

void server_host_names(void** /*state*/) {
    assert_string_equal(server_host("https://fac1.example.com").c_str(), "fac1.example.com");
    assert_string_equal(server_host("https://fac1.example.com:8443/x").c_str(), "fac1.example.com");
    assert_string_equal(server_host("https://[::1]:8443").c_str(), "[::1]");
}

struct HealthDir {
    std::string path;
    HealthDir() {
        char tmpl[] = "/tmp/pamfac-health-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~HealthDir() {
        const int rc = std::system(("rm -rf '" + path + "'").c_str());
        (void)rc;  // best effort
    }
};

void dead_primary_is_tried_last_afterwards(void** /*state*/) {
    HealthDir dir;
    Rig r;
    r.settings.state_dir = dir.path + "/state";
    r.settings.server_retry_after_s = 60;
    r.settings.euid = geteuid();
    r.transport.responses = {net_error(NetError::ConnectTimeout), http_status(200), http_status(200)};
    assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(Verdict::Accepted));
    assert_int_equal(r.transport.urls.size(), 3);
    assert_string_equal(r.transport.urls[2].c_str(), "https://fac2.test:8443/prefix/api/v1/auth/");
}

void all_servers_marked_are_tried_in_order(void** /*state*/) {
    HealthDir dir;
    Rig r;
    r.settings.state_dir = dir.path + "/state";
    r.settings.server_retry_after_s = 60;
    r.settings.euid = geteuid();
    r.transport.responses = {net_error(NetError::Connect), net_error(NetError::Connect), http_status(200)};
    assert_int_equal(static_cast<int>(r.code("123456").verdict), static_cast<int>(Verdict::Outage));
    r.code("123456");
    assert_string_equal(r.transport.urls[2].c_str(), "https://fac1.test/api/v1/auth/");
}

void recovered_primary_is_first_again(void** /*state*/) {
    HealthDir dir;
    Rig r;
    r.settings.state_dir = dir.path + "/state";
    r.settings.server_retry_after_s = 60;
    r.settings.euid = geteuid();
    // fac1 down, fac2 answers; later fac2 is down and fac1 answers again.
    r.transport.responses = {net_error(NetError::Connect), http_status(200), net_error(NetError::Connect),
                             http_status(200), http_status(200)};
    r.code("123456");
    r.code("123456");  // fac2 first (fails), then fac1 (answers: healthy again)
    r.code("123456");  // fac2 is the one marked now: fac1 first
    assert_string_equal(r.transport.urls[4].c_str(), "https://fac1.test/api/v1/auth/");
}

void failed_answers_do_not_mark_a_server(void** /*state*/) {
    HealthDir dir;
    Rig r;
    r.settings.state_dir = dir.path + "/state";
    r.settings.server_retry_after_s = 60;
    r.settings.euid = geteuid();
    r.transport.responses = {http_status(401, "User authentication failed"), http_status(200)};
    r.code("123456");
    r.code("123456");
    assert_string_equal(r.transport.urls[1].c_str(), "https://fac1.test/api/v1/auth/");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_server_answers),
        cmocka_unit_test(realm_uses_realmauth),
        cmocka_unit_test(fails_over_on_connection_failures),
        cmocka_unit_test(fails_over_on_proxy_errors),
        cmocka_unit_test(never_sends_a_code_twice),
        cmocka_unit_test(all_servers_down_is_unreachable),
        cmocka_unit_test(outage_only_when_every_server_is_down),
        cmocka_unit_test(a_tls_failure_anywhere_is_reported_as_tls),
        cmocka_unit_test(push_body_and_timeout),
        cmocka_unit_test(push_is_never_sent_twice),
        cmocka_unit_test(push_401_is_checked_with_one_request),
        cmocka_unit_test(push_context_fields_refused_sends_plain_push),
        cmocka_unit_test(push_fails_over_when_not_sent),
        cmocka_unit_test(invalid_utf8_password_is_not_sent),
        cmocka_unit_test(concatenated_form),
        cmocka_unit_test(server_host_names),
        cmocka_unit_test(dead_primary_is_tried_last_afterwards),
        cmocka_unit_test(all_servers_marked_are_tried_in_order),
        cmocka_unit_test(recovered_primary_is_first_again),
        cmocka_unit_test(failed_answers_do_not_mark_a_server),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// Unit tests of common/fac/fac_answer.h: how every answer of docs/fac-api.md and
// every network failure maps to a Verdict, and when failover is allowed
// (pam_fac(8), RETURN VALUES).
#include <cstring>
#include <string>

#include "fac/fac_answer.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

const Endpoint kAllEndpoints[] = {Endpoint::Auth, Endpoint::RealmAuth, Endpoint::PushAuth};
const Endpoint kCodeEndpoints[] = {Endpoint::Auth, Endpoint::RealmAuth};
const NetError kAllNetErrors[] = {
    NetError::Resolve, NetError::Connect,  NetError::ConnectTimeout, NetError::TlsHandshake, NetError::TlsVerify,
    NetError::Timeout, NetError::TooLarge, NetError::Broken,         NetError::Cancelled,    NetError::Other};

HttpResponse answer(long status, std::string body = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

HttpResponse failure(NetError e, std::string detail = "libcurl says no") {
    HttpResponse r;
    r.error = e;
    r.detail = std::move(detail);
    return r;
}

// Classifies and checks that the detail for the log is never empty.
Verdict classify(const HttpResponse& r, Endpoint e, std::string* detail_out = nullptr, bool setuid = false) {
    std::string detail = "stale";
    const Verdict v = classify_answer(r, e, setuid, detail);
    assert_false(detail.empty());
    assert_string_not_equal(detail.c_str(), "stale");
    if (detail_out != nullptr) {
        *detail_out = detail;
    }
    return v;
}

void expect_verdict(const HttpResponse& r, Endpoint e, Verdict want) {
    const Verdict got = classify(r, e);
    if (got != want) {
        fail_msg("status %ld body '%s' error %s: got %s, want %s", r.status, r.body.c_str(), net_error_name(r.error),
                 verdict_name(got), verdict_name(want));
    }
}

void expect_code_endpoints(const HttpResponse& r, Verdict want) {
    for (Endpoint e : kCodeEndpoints) {
        expect_verdict(r, e, want);
    }
}

// --- normalise_answer_text ------------------------------------------------

void normalise_plain_text(void** /*state*/) {
    assert_string_equal(normalise_answer_text("User authentication failed").c_str(), "user authentication failed");
    assert_string_equal(normalise_answer_text("USER DOES NOT EXIST").c_str(), "user does not exist");
    assert_string_equal(normalise_answer_text("").c_str(), "");
}

void normalise_trims_whitespace(void** /*state*/) {
    assert_string_equal(normalise_answer_text("  Account is disabled\r\n").c_str(), "account is disabled");
    assert_string_equal(normalise_answer_text("\tNo token configured \n\n").c_str(), "no token configured");
    assert_string_equal(normalise_answer_text(" \r\n ").c_str(), "");
}

void normalise_strips_quotes(void** /*state*/) {
    assert_string_equal(normalise_answer_text("\"Token is out of sync\"").c_str(), "token is out of sync");
    assert_string_equal(normalise_answer_text("'User does not exist'").c_str(), "user does not exist");
    assert_string_equal(normalise_answer_text(" \" User authentication failed \" ").c_str(),
                        "user authentication failed");
}

void normalise_strips_trailing_dot(void** /*state*/) {
    assert_string_equal(normalise_answer_text("User does not exist.").c_str(), "user does not exist");
    assert_string_equal(normalise_answer_text("\"Account is disabled.\"").c_str(), "account is disabled");
}

void normalise_json_error_wrapper(void** /*state*/) {
    assert_string_equal(normalise_answer_text("{\"error\": \"Account is disabled\"}").c_str(), "account is disabled");
    assert_string_equal(normalise_answer_text(" {\"error\":\"User authentication failed.\"} \n").c_str(),
                        "user authentication failed");
}

void normalise_json_detail_wrapper(void** /*state*/) {
    assert_string_equal(normalise_answer_text("{\"detail\": \"No token configured\"}").c_str(), "no token configured");
    assert_string_equal(normalise_answer_text("{\"status\": 401, \"detail\": \" Token is out of sync \"}").c_str(),
                        "token is out of sync");
}

void normalise_json_without_string(void** /*state*/) {
    assert_string_equal(normalise_answer_text("{\"status\": 401}").c_str(), "");
    assert_string_equal(normalise_answer_text("{not json").c_str(), "");
}

// --- /auth/ and /realmauth/ -------------------------------------------------

void auth_200_accepted(void** /*state*/) {
    expect_code_endpoints(answer(200), Verdict::Accepted);
    expect_code_endpoints(answer(200, " \r\n"), Verdict::Accepted);
    expect_code_endpoints(answer(200, "{}"), Verdict::Accepted);
    expect_code_endpoints(answer(200, "{\"status\": \"ok\"}"), Verdict::Accepted);
}

// A catch-all site, a captive portal or a proxy's error page with a valid
// certificate answers 200 too: only FAC's form of a yes counts.
void auth_200_with_another_body_not_understood(void** /*state*/) {
    for (const char* body :
         {"OK", "<html><body>Welcome</body></html>", "{\"error\": \"denied\"}", "{\"errors\": []}",
          "{\"detail\": \"Authentication failed\"}", "[]", "\"yes\"", "{", "\xbb{}", "\xef\xbb\xbf{}"}) {
        expect_code_endpoints(answer(200, body), Verdict::NotUnderstood);
        expect_verdict(answer(200, body), Endpoint::PushAuth, Verdict::NotUnderstood);
    }
    expect_verdict(answer(202, "<html></html>"), Endpoint::RealmAuth, Verdict::NotUnderstood);
    std::string detail;
    classify(answer(200, "<html>portal</html>"), Endpoint::Auth, &detail);
    assert_non_null(strstr(detail.c_str(), "HTTP 200 from /api/v1/auth/ with body \"<html>portal</html>\""));
}

void realmauth_202_password_change(void** /*state*/) {
    expect_verdict(answer(202), Endpoint::RealmAuth, Verdict::AcceptedPasswordChange);
    expect_verdict(answer(202), Endpoint::Auth, Verdict::AcceptedPasswordChange);
}

void auth_401_wrong_credentials(void** /*state*/) {
    expect_code_endpoints(answer(401, "User authentication failed"), Verdict::WrongCredentials);
    expect_code_endpoints(answer(401, "user authentication failed\n"), Verdict::WrongCredentials);
    expect_code_endpoints(answer(401, "{\"error\": \"User authentication failed\"}"), Verdict::WrongCredentials);
    // Newer FAC versions: the text in any string value of a JSON body.
    expect_code_endpoints(answer(401, "{\"status\": \"error\", \"message\": \"User authentication failed.\"}"),
                          Verdict::WrongCredentials);
    expect_code_endpoints(answer(401, "{\"error\": {\"code\": 401, \"text\": \"user authentication failed\"}}"),
                          Verdict::WrongCredentials);
    expect_code_endpoints(answer(401, "[\"User authentication failed\"]"), Verdict::WrongCredentials);
}

void auth_401_account_disabled(void** /*state*/) {
    expect_code_endpoints(answer(401, "Account is disabled"), Verdict::AccountDisabled);
    expect_code_endpoints(answer(401, "\"ACCOUNT IS DISABLED.\""), Verdict::AccountDisabled);
}

void auth_401_no_token(void** /*state*/) {
    expect_code_endpoints(answer(401, "No token configured"), Verdict::NoToken);
    expect_code_endpoints(answer(401, "{\"detail\": \"No token configured\"}"), Verdict::NoToken);
}

void auth_401_token_out_of_sync(void** /*state*/) {
    expect_code_endpoints(answer(401, "Token is out of sync"), Verdict::TokenOutOfSync);
    expect_code_endpoints(answer(401, "  token is out of sync.  "), Verdict::TokenOutOfSync);
}

void auth_401_empty_body_is_api_credentials(void** /*state*/) {
    std::string detail;
    assert_int_equal(static_cast<int>(classify(answer(401), Endpoint::Auth, &detail)),
                     static_cast<int>(Verdict::ApiCredentialsRejected));
    assert_non_null(strstr(detail.c_str(), "api_key"));
    expect_code_endpoints(answer(401, "   "), Verdict::ApiCredentialsRejected);
}

void auth_401_other_body_is_api_credentials(void** /*state*/) {
    expect_code_endpoints(answer(401, "Unauthorized"), Verdict::ApiCredentialsRejected);
    expect_code_endpoints(answer(401, "{\"detail\": \"Invalid username/password.\"}"), Verdict::ApiCredentialsRejected);
    expect_code_endpoints(answer(401, "<html>401 Authorization Required</html>"), Verdict::ApiCredentialsRejected);
    // The unknown-user text only counts with a 404.
    expect_code_endpoints(answer(401, "User does not exist"), Verdict::ApiCredentialsRejected);
}

void auth_404_unknown_user(void** /*state*/) {
    expect_code_endpoints(answer(404, "User does not exist"), Verdict::UnknownUser);
    expect_code_endpoints(answer(404, "{\"error\": \"user does not exist.\"}"), Verdict::UnknownUser);
}

void auth_404_other_body_not_understood(void** /*state*/) {
    expect_code_endpoints(answer(404), Verdict::NotUnderstood);
    expect_code_endpoints(answer(404, "<h1>Not Found</h1>"), Verdict::NotUnderstood);
    expect_code_endpoints(answer(404, "User authentication failed"), Verdict::NotUnderstood);
}

void auth_403_api_credentials(void** /*state*/) {
    expect_code_endpoints(answer(403), Verdict::ApiCredentialsRejected);
    expect_code_endpoints(answer(403, "Permission denied"), Verdict::ApiCredentialsRejected);
}

// Answers that are no outage: failmode = safe must not open on them.
void auth_other_statuses_not_understood(void** /*state*/) {
    std::string detail;
    assert_int_equal(static_cast<int>(classify(answer(400,
                                                      "{\"error\": \"username: Ensure this field has no more "
                                                      "than 50 characters.\"}"),
                                               Endpoint::RealmAuth, &detail)),
                     static_cast<int>(Verdict::NotUnderstood));
    assert_non_null(strstr(detail.c_str(), "HTTP 400 from /api/v1/realmauth/"));
    for (long s : {400L, 301L, 302L, 307L, 308L, 409L, 418L, 429L, 501L, 505L, 599L}) {
        expect_code_endpoints(answer(s, "whatever"), Verdict::NotUnderstood);
    }
}

void auth_5xx_outage(void** /*state*/) {
    for (long s : {500L, 502L, 503L, 504L}) {
        expect_code_endpoints(answer(s, "Internal Server Error"), Verdict::Outage);
    }
}

void auth_other_success_codes_not_accepted(void** /*state*/) {
    // Only 200 (and 202) mean success; anything else FAC would never send.
    for (long s : {0L, 100L, 201L, 204L, 206L, 418L}) {
        const Verdict v = classify(answer(s), Endpoint::Auth);
        assert_true(v != Verdict::Accepted && v != Verdict::AcceptedPasswordChange);
    }
}

// --- /pushauth/ -------------------------------------------------------------

void push_200_accepted(void** /*state*/) {
    expect_verdict(answer(200), Endpoint::PushAuth, Verdict::Accepted);
}

void push_401_rejected(void** /*state*/) {
    expect_verdict(answer(401), Endpoint::PushAuth, Verdict::PushRejected);
    expect_verdict(answer(401, "User authentication failed"), Endpoint::PushAuth, Verdict::PushRejected);
}

void push_404_unavailable(void** /*state*/) {
    expect_verdict(answer(404), Endpoint::PushAuth, Verdict::PushUnavailable);
    expect_verdict(answer(404, "User does not exist"), Endpoint::PushAuth, Verdict::PushUnavailable);
}

void push_500_and_503_not_sent(void** /*state*/) {
    expect_verdict(answer(500), Endpoint::PushAuth, Verdict::PushNotSent);
    expect_verdict(answer(503), Endpoint::PushAuth, Verdict::PushNotSent);
}

void push_403_api_credentials(void** /*state*/) {
    expect_verdict(answer(403), Endpoint::PushAuth, Verdict::ApiCredentialsRejected);
}

// Once the push request is out, nothing is an outage: a proxy's 504 after
// holding the push, a 400, anything unknown.
void push_other_status_lost(void** /*state*/) {
    for (long s : {201L, 202L, 204L, 302L, 400L, 429L, 504L, 599L}) {
        expect_verdict(answer(s), Endpoint::PushAuth, Verdict::PushLost);
    }
    expect_verdict(answer(502), Endpoint::PushAuth, Verdict::PushNotSent);  // the proxy sent nothing on
}

void push_timeout_timed_out(void** /*state*/) {
    expect_verdict(failure(NetError::Timeout), Endpoint::PushAuth, Verdict::PushTimedOut);
}

// --- network errors -------------------------------------------------------

void net_tls_verify_is_tls_failure(void** /*state*/) {
    for (Endpoint e : kAllEndpoints) {
        std::string detail;
        assert_int_equal(static_cast<int>(classify(failure(NetError::TlsVerify), e, &detail)),
                         static_cast<int>(Verdict::TlsFailure));
        assert_non_null(strstr(detail.c_str(), "ca_file"));
    }
}

void net_errors_outage_only_before_the_request(void** /*state*/) {
    for (NetError n : {NetError::Resolve, NetError::Connect, NetError::ConnectTimeout}) {
        for (Endpoint e : kAllEndpoints) {
            expect_verdict(failure(n), e, Verdict::Outage);
        }
    }
    expect_code_endpoints(failure(NetError::NoAnswer), Verdict::Outage);
    expect_verdict(failure(NetError::NoAnswer), Endpoint::PushAuth, Verdict::PushLost);
    for (NetError n : {NetError::TlsHandshake, NetError::TooLarge, NetError::Broken, NetError::Other}) {
        expect_code_endpoints(failure(n), Verdict::NotUnderstood);
        expect_verdict(failure(n), Endpoint::PushAuth, Verdict::PushLost);
    }
}

// A request that got no answer in time may have reached FAC.
void net_timeout_on_auth_not_an_outage(void** /*state*/) {
    expect_code_endpoints(failure(NetError::Timeout), Verdict::NotUnderstood);
}

// In a setuid program the caller can stop the process: its timeouts prove
// nothing; what the network reports still does.
void setuid_timeouts_are_no_outage(void** /*state*/) {
    for (Endpoint e : kCodeEndpoints) {
        std::string detail;
        assert_int_equal(static_cast<int>(classify(failure(NetError::ConnectTimeout), e, &detail, true)),
                         static_cast<int>(Verdict::NotUnderstood));
        assert_non_null(strstr(detail.c_str(), "setuid"));
        assert_int_equal(static_cast<int>(classify(failure(NetError::Connect), e, nullptr, true)),
                         static_cast<int>(Verdict::Outage));
        assert_int_equal(static_cast<int>(classify(answer(503), e, nullptr, true)), static_cast<int>(Verdict::Outage));
    }
}

// socket() failing for this process's limits is never FAC's outage.
void local_failure_is_no_outage(void** /*state*/) {
    for (Endpoint e : kAllEndpoints) {
        std::string detail;
        assert_int_equal(static_cast<int>(classify(failure(NetError::Local, "Too many open files"), e, &detail)),
                         static_cast<int>(Verdict::LocalFailure));
        assert_non_null(strstr(detail.c_str(), "limits"));
    }
}

void net_cancelled_push_abandoned(void** /*state*/) {
    expect_verdict(failure(NetError::Cancelled), Endpoint::PushAuth, Verdict::PushAbandoned);
}

void net_error_wins_over_status(void** /*state*/) {
    // A transfer cut short after a 200 status line is never a success.
    HttpResponse r = failure(NetError::Broken);
    r.status = 200;
    expect_code_endpoints(r, Verdict::NotUnderstood);
    expect_verdict(r, Endpoint::PushAuth, Verdict::PushLost);
    r = failure(NetError::TooLarge);
    r.status = 200;
    expect_code_endpoints(r, Verdict::NotUnderstood);
    expect_verdict(r, Endpoint::PushAuth, Verdict::PushLost);
}

void net_error_detail_is_printable(void** /*state*/) {
    for (NetError n : kAllNetErrors) {
        for (Endpoint e : kAllEndpoints) {
            std::string detail;
            classify(failure(n, "evil\n\x1b[2Jline"), e, &detail);
            assert_null(strchr(detail.c_str(), '\n'));
            assert_null(strchr(detail.c_str(), '\x1b'));
        }
    }
}

void detail_never_empty_for_any_status(void** /*state*/) {
    const char* bodies[] = {"",
                            "User authentication failed",
                            "Account is disabled",
                            "No token configured",
                            "Token is out of sync",
                            "User does not exist",
                            "garbage"};
    for (long s = 0; s < 600; ++s) {
        for (const char* body : bodies) {
            for (Endpoint e : kAllEndpoints) {
                classify(answer(s, body), e);  // asserts detail is set and non-empty
            }
        }
    }
    for (NetError n : kAllNetErrors) {
        for (Endpoint e : kAllEndpoints) {
            classify(failure(n, ""), e);
        }
    }
}

// --- allows_failover --------------------------------------------------------

void failover_on_pre_request_net_errors(void** /*state*/) {
    for (NetError n : {NetError::Resolve, NetError::Connect, NetError::ConnectTimeout, NetError::TlsHandshake,
                       NetError::TlsVerify}) {
        for (Endpoint e : kAllEndpoints) {
            assert_true(allows_failover(failure(n), e));
        }
    }
}

void no_failover_after_request_may_have_arrived(void** /*state*/) {
    for (NetError n : {NetError::Timeout, NetError::Broken, NetError::TooLarge, NetError::Cancelled, NetError::Other}) {
        for (Endpoint e : kAllEndpoints) {
            if (allows_failover(failure(n), e)) {
                fail_msg("failover allowed after %s", net_error_name(n));
            }
        }
    }
}

void failover_on_proxy_errors_for_auth(void** /*state*/) {
    for (Endpoint e : kCodeEndpoints) {
        assert_true(allows_failover(answer(502), e));
        assert_true(allows_failover(answer(503), e));
        assert_true(allows_failover(answer(504), e));
    }
}

void failover_on_pushauth_only_502(void** /*state*/) {
    assert_true(allows_failover(answer(502), Endpoint::PushAuth));
    assert_false(allows_failover(answer(503), Endpoint::PushAuth));
    assert_false(allows_failover(answer(504), Endpoint::PushAuth));
    assert_false(allows_failover(answer(500), Endpoint::PushAuth));
}

void no_failover_on_fac_answers(void** /*state*/) {
    for (long s : {200L, 202L, 301L, 302L, 400L, 401L, 403L, 404L, 500L, 501L, 505L}) {
        for (Endpoint e : kAllEndpoints) {
            if (allows_failover(answer(s, "User authentication failed"), e)) {
                fail_msg("failover allowed after HTTP %ld", s);
            }
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalise_plain_text),
        cmocka_unit_test(normalise_trims_whitespace),
        cmocka_unit_test(normalise_strips_quotes),
        cmocka_unit_test(normalise_strips_trailing_dot),
        cmocka_unit_test(normalise_json_error_wrapper),
        cmocka_unit_test(normalise_json_detail_wrapper),
        cmocka_unit_test(normalise_json_without_string),
        cmocka_unit_test(auth_200_accepted),
        cmocka_unit_test(auth_200_with_another_body_not_understood),
        cmocka_unit_test(realmauth_202_password_change),
        cmocka_unit_test(auth_401_wrong_credentials),
        cmocka_unit_test(auth_401_account_disabled),
        cmocka_unit_test(auth_401_no_token),
        cmocka_unit_test(auth_401_token_out_of_sync),
        cmocka_unit_test(auth_401_empty_body_is_api_credentials),
        cmocka_unit_test(auth_401_other_body_is_api_credentials),
        cmocka_unit_test(auth_404_unknown_user),
        cmocka_unit_test(auth_404_other_body_not_understood),
        cmocka_unit_test(auth_403_api_credentials),
        cmocka_unit_test(auth_other_statuses_not_understood),
        cmocka_unit_test(auth_5xx_outage),
        cmocka_unit_test(auth_other_success_codes_not_accepted),
        cmocka_unit_test(push_200_accepted),
        cmocka_unit_test(push_401_rejected),
        cmocka_unit_test(push_404_unavailable),
        cmocka_unit_test(push_500_and_503_not_sent),
        cmocka_unit_test(push_403_api_credentials),
        cmocka_unit_test(push_other_status_lost),
        cmocka_unit_test(push_timeout_timed_out),
        cmocka_unit_test(net_tls_verify_is_tls_failure),
        cmocka_unit_test(net_errors_outage_only_before_the_request),
        cmocka_unit_test(net_timeout_on_auth_not_an_outage),
        cmocka_unit_test(setuid_timeouts_are_no_outage),
        cmocka_unit_test(local_failure_is_no_outage),
        cmocka_unit_test(net_cancelled_push_abandoned),
        cmocka_unit_test(net_error_wins_over_status),
        cmocka_unit_test(net_error_detail_is_printable),
        cmocka_unit_test(detail_never_empty_for_any_status),
        cmocka_unit_test(failover_on_pre_request_net_errors),
        cmocka_unit_test(no_failover_after_request_may_have_arrived),
        cmocka_unit_test(failover_on_proxy_errors_for_auth),
        cmocka_unit_test(failover_on_pushauth_only_502),
        cmocka_unit_test(no_failover_on_fac_answers),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

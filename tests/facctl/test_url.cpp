// url.cpp: the one parser of server and proxy URLs, and where FAC's
// pagination links lead.
#include <string>

#include "cmocka_cpp.h"
#include "http/url.h"

namespace {

using pamfac::resolve_same_origin;

void expect_resolved(const char* base, const char* ref, const char* expected) {
    const auto got = resolve_same_origin(base, ref);
    if (!got || *got != expected) {
        print_error("resolve(%s, %s) = %s, expected %s\n", base, ref, got ? got->c_str() : "(refused)", expected);
        fail();
    }
}

void expect_refused(const char* base, const char* ref) {
    const auto got = resolve_same_origin(base, ref);
    if (got) {
        print_error("resolve(%s, %s) = %s, expected a refusal\n", base, ref, got->c_str());
        fail();
    }
}

void test_absolute_path_links(void** /*state*/) {
    // FAC's own form of meta.next.
    expect_resolved("https://fac.example:8443/api/v1/fortitokens/?limit=1000",
                    "/api/v1/fortitokens/?offset=1000&limit=1000",
                    "https://fac.example:8443/api/v1/fortitokens/?offset=1000&limit=1000");
    expect_resolved("https://fac.example/prefix/api/v1/fortitokens/?limit=2", "/api/v1/x/../fortitokens/?offset=2",
                    "https://fac.example/api/v1/fortitokens/?offset=2");
}

void test_relative_links(void** /*state*/) {
    expect_resolved("https://h/api/v1/fortitokens/?limit=2", "?offset=2&limit=2",
                    "https://h/api/v1/fortitokens/?offset=2&limit=2");
    expect_resolved("https://h/api/v1/fortitokens/?limit=2", "next/?offset=2",
                    "https://h/api/v1/fortitokens/next/?offset=2");
    expect_resolved("https://h/api/v1/fortitokens/?limit=2", "../fortitokens/?offset=2",
                    "https://h/api/v1/fortitokens/?offset=2");
    expect_resolved("https://[::1]:8443/api/v1/fortitokens/", "/api/v1/fortitokens/?offset=5",
                    "https://[::1]:8443/api/v1/fortitokens/?offset=5");
}

void test_same_origin_absolute_links(void** /*state*/) {
    expect_resolved("https://h:8443/api/v1/fortitokens/", "https://h:8443/api/v1/fortitokens/?offset=1",
                    "https://h:8443/api/v1/fortitokens/?offset=1");
    expect_resolved("https://H:8443/a/", "HTTPS://h:8443/a/?offset=1", "HTTPS://h:8443/a/?offset=1");
    expect_resolved("https://h/a/", "//h/a/?offset=1", "https://h/a/?offset=1");
}

void test_other_origins_refused(void** /*state*/) {
    // The API key goes with every request: a link must not carry it away.
    expect_refused("https://h/api/v1/fortitokens/", "https://evil.example/api/v1/fortitokens/?offset=1");
    expect_refused("https://h/api/v1/fortitokens/", "http://h/api/v1/fortitokens/?offset=1");
    expect_refused("https://h/api/v1/fortitokens/", "https://h:444/api/v1/fortitokens/");
    expect_refused("https://h/api/v1/fortitokens/", "//evil.example/x");
    expect_refused("https://h/api/v1/fortitokens/", "https://h@evil.example/x");
}

void test_odd_bytes_refused(void** /*state*/) {
    expect_refused("https://h/a/", "");
    expect_refused("https://h/a/", "/a/?offset=1\r\nHost: evil");
    expect_refused("https://h/a/", "/a b/");
    expect_refused("https://h/a/", "/a/\\x");
    expect_refused("https://h/a/", "/a/#frag");
    expect_refused("not a url", "/a/");
}

void test_authority(void** /*state*/) {
    auto a = pamfac::url_authority("https://fac1.example.com:8443/prefix");
    assert_true(a.has_value());
    assert_string_equal(a->host.c_str(), "fac1.example.com");
    assert_int_equal(a->port, 8443);
    a = pamfac::url_authority("https://fac1.example.com");
    assert_true(a.has_value());
    assert_int_equal(a->port, 443);
    a = pamfac::url_authority("https://[::1]:9443");
    assert_true(a.has_value());
    assert_string_equal(a->host.c_str(), "::1");
    assert_int_equal(a->port, 9443);
    assert_false(pamfac::url_authority("https://h:0").has_value());
    assert_false(pamfac::url_authority("https://h:99999").has_value());
    assert_false(pamfac::url_authority("https://:443").has_value());
    assert_false(pamfac::url_authority("fac1.example.com").has_value());
}

using pamfac::UrlProblem;

int problem_of_server(const char* url) {
    return static_cast<int>(pamfac::parse_server_url(url).problem);
}

int problem_of_proxy(const char* url) {
    return static_cast<int>(pamfac::parse_proxy_url(url).problem);
}

void test_server_url_problems(void** /*state*/) {
    assert_int_equal(problem_of_server("https://fac1.example.com:8443/prefix"), static_cast<int>(UrlProblem::None));
    assert_int_equal(problem_of_server("HTTPS://fac1.example.com"), static_cast<int>(UrlProblem::None));
    assert_int_equal(problem_of_server("https://u:p@fac1.example.com"), static_cast<int>(UrlProblem::Credentials));
    assert_int_equal(problem_of_server("http://fac1.example.com"), static_cast<int>(UrlProblem::WrongScheme));
    assert_int_equal(problem_of_server("fac1.example.com"), static_cast<int>(UrlProblem::WrongScheme));
    assert_int_equal(problem_of_server("https://fac1.example.com/?x=1"), static_cast<int>(UrlProblem::BadCharacter));
    assert_int_equal(problem_of_server("https://fac1.example.com/#x"), static_cast<int>(UrlProblem::BadCharacter));
    assert_int_equal(problem_of_server("https://[::1"), static_cast<int>(UrlProblem::UnterminatedIpv6));
    assert_int_equal(problem_of_server("https://[::1]8443"), static_cast<int>(UrlProblem::Malformed));
    assert_int_equal(problem_of_server("https://:8443"), static_cast<int>(UrlProblem::NoHost));
    assert_int_equal(problem_of_server("https://[]"), static_cast<int>(UrlProblem::NoHost));
    assert_int_equal(problem_of_server("https://h:"), static_cast<int>(UrlProblem::BadPort));
}

void test_server_url_control_characters_refused(void** /*state*/) {
    // U+009C (ST), U+009B (CSI) and U+0085 (NEL) in the host: C1 controls,
    // which a terminal showing the log line acts upon.
    for (const char* url : {"https://fac\xC2\x9C.example.com", "https://fac.example.com\xC2\x9B",
                            "https://\xC2\x85"
                            "fac",
                            "https://fac.example.com/pre\xC2\x80"
                            "fix",
                            "https://fac\x1b.example.com"}) {
        assert_int_equal(problem_of_server(url), static_cast<int>(UrlProblem::BadCharacter));
        assert_false(pamfac::url_authority(url).has_value());
    }
}

void test_proxy_url(void** /*state*/) {
    const auto p = pamfac::parse_proxy_url("http://user:pa:ss@proxy.example.com:3128/");
    assert_int_equal(static_cast<int>(p.problem), static_cast<int>(UrlProblem::None));
    assert_string_equal(p.authority.host.c_str(), "proxy.example.com");
    assert_int_equal(p.authority.port, 3128);
    for (const char* ok : {"https://proxy:8443", "socks5://[2001:db8::1]:1080", "SOCKS5H://p:1080", "http://p:3128"}) {
        assert_int_equal(problem_of_proxy(ok), static_cast<int>(UrlProblem::None));
    }
    assert_int_equal(problem_of_proxy("proxy.example.com:3128"), static_cast<int>(UrlProblem::WrongScheme));
    assert_int_equal(problem_of_proxy("ftp://proxy:21"), static_cast<int>(UrlProblem::WrongScheme));
    assert_int_equal(problem_of_proxy("socks4://proxy:1080"), static_cast<int>(UrlProblem::WrongScheme));
    assert_int_equal(problem_of_proxy("http://proxy.example.com"), static_cast<int>(UrlProblem::NoPort));
    assert_int_equal(problem_of_proxy("http://proxy:0"), static_cast<int>(UrlProblem::BadPort));
    assert_int_equal(problem_of_proxy("http://proxy:3128x"), static_cast<int>(UrlProblem::BadPort));
    assert_int_equal(problem_of_proxy("http://u:p@:3128"), static_cast<int>(UrlProblem::NoHost));
    assert_int_equal(problem_of_proxy("http://proxy:3128/path"), static_cast<int>(UrlProblem::Malformed));
    // An unencoded '/' in the password would make curl see another host.
    assert_int_equal(problem_of_proxy("http://u:p/w@proxy:3128"), static_cast<int>(UrlProblem::Malformed));
    assert_int_equal(problem_of_proxy("http://u:p\nw@proxy:3128"), static_cast<int>(UrlProblem::BadCharacter));
    assert_int_equal(problem_of_proxy("http://pro xy:3128"), static_cast<int>(UrlProblem::BadCharacter));
    assert_int_equal(problem_of_proxy("http://pro\xC2\x9Cxy:3128"), static_cast<int>(UrlProblem::BadCharacter));
}

void test_redact_userinfo(void** /*state*/) {
    assert_string_equal(pamfac::redact_userinfo("http://user:s3cret@proxy:3128").c_str(), "http://***@proxy:3128");
    assert_string_equal(pamfac::redact_userinfo("http://u:a@b/c@proxy:3128").c_str(), "http://***@proxy:3128");
    assert_string_equal(pamfac::redact_userinfo("u:s3cret@proxy:3128").c_str(), "***@proxy:3128");
    assert_string_equal(pamfac::redact_userinfo("http://proxy:3128").c_str(), "http://proxy:3128");
    assert_string_equal(pamfac::redact_userinfo("").c_str(), "");
}

void test_percent_encode(void** /*state*/) {
    assert_string_equal(pamfac::percent_encode("FTKMOB-0_1.~").c_str(), "FTKMOB-0_1.~");
    assert_string_equal(pamfac::percent_encode("a b&c=d/é").c_str(), "a%20b%26c%3Dd%2F%C3%A9");
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_absolute_path_links),
        cmocka_unit_test(test_relative_links),
        cmocka_unit_test(test_same_origin_absolute_links),
        cmocka_unit_test(test_other_origins_refused),
        cmocka_unit_test(test_odd_bytes_refused),
        cmocka_unit_test(test_authority),
        cmocka_unit_test(test_percent_encode),
        cmocka_unit_test(test_server_url_problems),
        cmocka_unit_test(test_server_url_control_characters_refused),
        cmocka_unit_test(test_proxy_url),
        cmocka_unit_test(test_redact_userinfo),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

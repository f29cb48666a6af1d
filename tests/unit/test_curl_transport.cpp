// Unit tests of common/http/curl_transport.h: an http_proxy's user and
// password never reach a NetError's detail, whether libcurl's error text
// quotes the proxy with its scheme or without (the rest of the text stays);
// ca_file and ca_path unset libcurl's other default instead of adding to it;
// an option libcurl refuses is not ignored. (tests/integration/test_libcurl.cpp
// checks the same through the module against a real system store.)
#include <cstring>
#include <map>
#include <string>

#include "http/curl_transport.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

void hides_userinfo_of_any_url(void** /*state*/) {
    assert_string_equal(
        without_credentials("Unsupported proxy syntax in 'http://user:pa55word@127.0.0.1:99999': Bad port", "").c_str(),
        "Unsupported proxy syntax in 'http://***@127.0.0.1:99999': Bad port");
    assert_string_equal(without_credentials("a http://u@h/p and socks5://x:y@z:1", "").c_str(),
                        "a http://***@h/p and socks5://***@z:1");
    // An '@' after the host is not userinfo.
    assert_string_equal(without_credentials("https://fac.example/a@b", "").c_str(), "https://fac.example/a@b");
    assert_string_equal(
        without_credentials("Could not resolve proxy: proxy.example", "http://u:p@proxy.example:3128").c_str(),
        "Could not resolve proxy: proxy.example");
}

void hides_the_proxys_credentials_however_quoted(void** /*state*/) {
    const std::string proxy = "user:pa55word@127.0.0.1:99999";
    assert_string_equal(without_credentials("Unsupported proxy syntax in '" + proxy + "'", proxy).c_str(),
                        "Unsupported proxy syntax in '***@127.0.0.1:99999'");
    assert_string_equal(without_credentials("the password pa55word alone", "http://user:pa55word@p:1").c_str(),
                        "the password *** alone");
    // A password too short to hide by itself leaves other text alone.
    assert_string_equal(without_credentials("a b c", "http://u:a@p:1").c_str(), "a b c");
}

// Through libcurl: the proxy URL is refused before any connection.
void transport_detail_has_no_proxy_credentials(void** /*state*/) {
    for (const std::string proxy : {"http://pxuser:pxPassW0rd7@127.0.0.1:99999", "pxuser:pxPassW0rd7@127.0.0.1:99999",
                                    "socks9://pxuser:pxPassW0rd7@127.0.0.1:1"}) {
        TransportSettings settings;
        settings.http_proxy = proxy;
        CurlTransport transport(settings);
        HttpRequest request;
        request.url = "https://127.0.0.1:1/api/v1/auth/";
        request.timeout_ms = 2000;
        const HttpResponse r = transport.perform(request);
        assert_int_not_equal(static_cast<int>(r.error), static_cast<int>(NetError::None));
        assert_false(r.detail.empty());
        assert_null(std::strstr(r.detail.c_str(), "pxPassW0rd7"));
        assert_null(std::strstr(r.detail.c_str(), "pxuser"));
    }
}

// A table whose setopt (fake_curl_setopt.c) records the string options it
// is given and refuses one option.
std::map<int, std::string> g_set;  // option -> value, "(null)" for NULL

}  // namespace

extern "C" {
extern CURLoption fake_refused_option;
CURLcode fake_setopt(CURL* handle, CURLoption option, ...);
void fake_record_option(int option, const char* value) {
    g_set[option] = value != nullptr ? value : "(null)";
}
}

namespace {

const char* fake_strerror(CURLcode /*rc*/) {
    return "unknown option";
}

CurlLibrary recording_table() {
    CurlLibrary t{};
    t.easy_setopt = fake_setopt;
    t.easy_strerror = fake_strerror;
    return t;
}

std::map<int, std::string> tls_options_for(const std::string& ca_file, const std::string& ca_path) {
    g_set.clear();
    fake_refused_option = CURLOPT_LASTENTRY;
    const CurlLibrary table = recording_table();
    CurlOptions options(table, nullptr);
    TransportSettings settings;
    settings.ca_file = ca_file;
    settings.ca_path = ca_path;
    set_tls_options(options, settings, true, "");
    assert_true(options.ok());
    return g_set;
}

void ca_settings_replace_the_system_store(void** /*state*/) {
    auto set = tls_options_for("/etc/fac/ca.pem", "");
    assert_string_equal(set[CURLOPT_CAINFO].c_str(), "/etc/fac/ca.pem");
    assert_string_equal(set[CURLOPT_CAPATH].c_str(), "(null)");
    set = tls_options_for("", "/etc/fac/cas");
    assert_string_equal(set[CURLOPT_CAINFO].c_str(), "(null)");
    assert_string_equal(set[CURLOPT_CAPATH].c_str(), "/etc/fac/cas");
    set = tls_options_for("/etc/fac/ca.pem", "/etc/fac/cas");
    assert_string_equal(set[CURLOPT_CAINFO].c_str(), "/etc/fac/ca.pem");
    assert_string_equal(set[CURLOPT_CAPATH].c_str(), "/etc/fac/cas");
    // Neither: libcurl's defaults, the system store.
    set = tls_options_for("", "");
    assert_true(set.count(CURLOPT_CAINFO) == 0 && set.count(CURLOPT_CAPATH) == 0);
}

void a_refused_option_is_kept(void** /*state*/) {
    g_set.clear();
    fake_refused_option = CURLOPT_PROTOCOLS_STR;
    const CurlLibrary table = recording_table();
    CurlOptions options(table, nullptr);
    options.set(CURLOPT_URL, "https://fac.example");
    assert_true(options.ok());
    options.set(CURLOPT_PROTOCOLS_STR, "https");
    options.set(CURLOPT_NOSIGNAL, 1L);
    assert_false(options.ok());
    assert_string_equal(
        options.refusal().c_str(),
        ("libcurl refused option " + std::to_string(CURLOPT_PROTOCOLS_STR) + ": unknown option").c_str());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hides_userinfo_of_any_url),
        cmocka_unit_test(hides_the_proxys_credentials_however_quoted),
        cmocka_unit_test(transport_detail_has_no_proxy_credentials),
        cmocka_unit_test(ca_settings_replace_the_system_store),
        cmocka_unit_test(a_refused_option_is_kept),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

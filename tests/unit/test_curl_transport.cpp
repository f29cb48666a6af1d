// Unit tests of common/http/curl_transport.h: an http_proxy's user and
// password never reach a NetError's detail, whether libcurl's error text
// quotes the proxy with its scheme or without; the rest of the text stays.
#include <cstring>
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

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hides_userinfo_of_any_url),
        cmocka_unit_test(hides_the_proxys_credentials_however_quoted),
        cmocka_unit_test(transport_detail_has_no_proxy_credentials),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// fac_tokens.cpp over a fake transport: filters, pagination through
// meta.next, failover for the first page, and the answers it refuses.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cmocka_cpp.h"
#include "facctl/fac_tokens.h"

namespace {

using pamfac::HttpRequest;
using pamfac::HttpResponse;
using pamfac::NetError;
using pamfac::TokensProblem;

class FakeTransport final : public pamfac::Transport {
public:
    std::map<std::string, HttpResponse> answers;
    std::vector<std::string> urls;

    HttpResponse perform(const HttpRequest& request) override {
        urls.push_back(request.url);
        assert_null(request.body);  // every token request is a GET
        const auto it = answers.find(request.url);
        if (it == answers.end()) {
            HttpResponse missing;
            missing.status = 404;
            return missing;
        }
        return it->second;
    }

    void answer(const std::string& url, long status, const std::string& body) {
        HttpResponse r;
        r.status = status;
        r.body = body;
        answers[url] = r;
    }
    void fail_with(const std::string& url, NetError error) {
        HttpResponse r;
        r.error = error;
        r.detail = "simulated";
        answers[url] = r;
    }
};

// A page of `count` tokens numbered from `first`, with meta.next `next`
// (JSON text: a quoted link, or null).
std::string page(int first, int count, const std::string& next, int total) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartObject();
    w.Key("meta");
    w.StartObject();
    w.Key("limit");
    w.Int(1000);
    w.Key("next");
    if (next.empty()) {
        w.Null();
    } else {
        w.String(next.c_str());
    }
    w.Key("total_count");
    w.Int(total);
    w.EndObject();
    w.Key("objects");
    w.StartArray();
    for (int i = first; i < first + count; ++i) {
        const std::string serial = "FTK" + std::to_string(i);
        w.StartObject();
        w.Key("serial");
        w.String(serial.c_str());
        w.Key("type");
        w.String("ftk");
        w.Key("status");
        w.String("available");
        w.Key("locked");
        w.Bool(false);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return out.GetString();
}

const std::string kServer = "https://fac.example:8443";
const std::string kFirst = kServer + "/api/v1/fortitokens/?limit=1000";

void test_urls_and_filters(void** /*state*/) {
    pamfac::TokenFilter f;
    assert_string_equal(pamfac::tokens_url(kServer, f, 1000).c_str(), kFirst.c_str());
    f.type = "ftm";
    f.status = "assigned";
    f.serial = "FTK 1&x";
    assert_string_equal(pamfac::tokens_url(kServer, f, 1).c_str(),
                        (kServer + "/api/v1/fortitokens/?limit=1&serial=FTK%201%26x&type=ftm&status=assigned").c_str());
    f.ignore_case = true;
    f.serial.clear();
    f.status.clear();
    f.type = "FTM";
    assert_string_equal(pamfac::tokens_url(kServer, f, 1000).c_str(),
                        (kServer + "/api/v1/fortitokens/?limit=1000&type__iexact=FTM").c_str());
}

void test_follows_every_page(void** /*state*/) {
    FakeTransport t;
    t.answer(kFirst, 200, page(0, 1000, "/api/v1/fortitokens/?offset=1000&limit=1000", 2500));
    t.answer(kServer + "/api/v1/fortitokens/?offset=1000&limit=1000", 200,
             page(1000, 1000, "?offset=2000&limit=1000", 2500));
    t.answer(kServer + "/api/v1/fortitokens/?offset=2000&limit=1000", 200, page(2000, 500, "", 2500));
    pamfac::TokenListing listing;
    const auto error = pamfac::list_tokens(t, {kServer}, {}, 5000, listing);
    assert_false(error.has_value());
    assert_int_equal(listing.tokens.Size(), 2500);
    assert_int_equal(listing.pages, 3);
    assert_int_equal(listing.total_count, 2500);
    assert_string_equal(listing.server.c_str(), kServer.c_str());
    assert_int_equal(t.urls.size(), 3);
    assert_string_equal(listing.tokens[2499]["serial"].GetString(), "FTK2499");
    assert_true(listing.tokens[0]["locked"].IsFalse());  // objects kept whole
}

void test_first_page_fails_over(void** /*state*/) {
    FakeTransport t;
    const std::string second = "https://fac2.example";
    t.fail_with(kFirst, NetError::Connect);
    t.answer(second + "/api/v1/fortitokens/?limit=1000", 200,
             page(0, 2, "/api/v1/fortitokens/?offset=2&limit=1000", 3));
    t.answer(second + "/api/v1/fortitokens/?offset=2&limit=1000", 200, page(2, 1, "", 3));
    pamfac::TokenListing listing;
    assert_false(pamfac::list_tokens(t, {kServer, second}, {}, 5000, listing).has_value());
    assert_string_equal(listing.server.c_str(), second.c_str());
    assert_int_equal(listing.tokens.Size(), 3);
    assert_int_equal(t.urls.size(), 3);  // later pages from the server that answered
}

void test_all_servers_fail(void** /*state*/) {
    FakeTransport t;
    t.fail_with(kFirst, NetError::Connect);
    t.answer("https://fac2.example/api/v1/fortitokens/?limit=1000", 401, "");
    pamfac::TokenListing listing;
    const auto error = pamfac::list_tokens(t, {kServer, "https://fac2.example"}, {}, 5000, listing);
    assert_true(error.has_value());
    assert_int_equal(static_cast<int>(error->problem), static_cast<int>(TokensProblem::CredentialsRejected));
    assert_non_null(strstr(error->message.c_str(), "fac.example:8443: connection failed"));
    assert_non_null(strstr(error->message.c_str(), "API key rejected"));
}

void test_status_answers(void** /*state*/) {
    const struct {
        long status;
        TokensProblem problem;
        const char* words;
    } cases[] = {
        {401, TokensProblem::CredentialsRejected, "API key rejected"},
        {403, TokensProblem::PermissionDenied, "admin lacks permission"},
        {404, TokensProblem::BadAnswer, "check the server URL"},
        {302, TokensProblem::BadAnswer, "not followed"},
        {503, TokensProblem::Unreachable, "HTTP 503"},
        {418, TokensProblem::BadAnswer, "unexpected HTTP 418"},
    };
    for (const auto& c : cases) {
        FakeTransport t;
        t.answer(kFirst, c.status, "whatever");
        const pamfac::TokensPage p = pamfac::fetch_tokens_page(t, kFirst, 5000);
        assert_int_equal(static_cast<int>(p.problem), static_cast<int>(c.problem));
        assert_non_null(strstr(p.message.c_str(), c.words));
    }
    FakeTransport t;
    t.fail_with(kFirst, NetError::TlsVerify);
    assert_int_equal(static_cast<int>(pamfac::fetch_tokens_page(t, kFirst, 5000).problem),
                     static_cast<int>(TokensProblem::TlsFailure));
}

void test_bad_bodies(void** /*state*/) {
    const char* bodies[] = {
        "not json",
        "[]",
        "{\"meta\": {}}",
        "{\"objects\": []}",
        "{\"meta\": {\"next\": 5}, \"objects\": []}",
        "{\"meta\": {}, \"objects\": [1]}",
        "{\"meta\": {}, \"objects\": [{\"serial\": \"\xff\"}]}",
    };
    for (const char* body : bodies) {
        FakeTransport t;
        t.answer(kFirst, 200, body);
        const pamfac::TokensPage p = pamfac::fetch_tokens_page(t, kFirst, 5000);
        assert_int_equal(static_cast<int>(p.problem), static_cast<int>(TokensProblem::BadAnswer));
    }
}

void test_links_elsewhere_not_followed(void** /*state*/) {
    FakeTransport t;
    t.answer(kFirst, 200, page(0, 1, "https://evil.example/api/v1/fortitokens/?offset=1", 2));
    pamfac::TokenListing listing;
    const auto error = pamfac::list_tokens(t, {kServer}, {}, 5000, listing);
    assert_true(error.has_value());
    assert_non_null(strstr(error->message.c_str(), "another server"));
    assert_int_equal(t.urls.size(), 1);
}

void test_links_in_circles_stop(void** /*state*/) {
    FakeTransport t;
    const std::string second = kServer + "/api/v1/fortitokens/?offset=1&limit=1000";
    t.answer(kFirst, 200, page(0, 1, "/api/v1/fortitokens/?offset=1&limit=1000", 9));
    t.answer(second, 200, page(1, 1, "/api/v1/fortitokens/?offset=1&limit=1000", 9));
    pamfac::TokenListing listing;
    const auto error = pamfac::list_tokens(t, {kServer}, {}, 5000, listing);
    assert_true(error.has_value());
    assert_non_null(strstr(error->message.c_str(), "does not advance"));
    assert_int_equal(t.urls.size(), 2);

    FakeTransport empty;
    empty.answer(kFirst, 200, page(0, 0, "/api/v1/fortitokens/?offset=0&limit=1000", 9));
    assert_true(pamfac::list_tokens(empty, {kServer}, {}, 5000, listing).has_value());
    assert_int_equal(empty.urls.size(), 1);
}

void test_later_page_failure(void** /*state*/) {
    FakeTransport t;
    t.answer(kFirst, 200, page(0, 1, "/api/v1/fortitokens/?offset=1&limit=1000", 2));
    t.fail_with(kServer + "/api/v1/fortitokens/?offset=1&limit=1000", NetError::Broken);
    pamfac::TokenListing listing;
    const auto error = pamfac::list_tokens(t, {kServer, "https://fac2.example"}, {}, 5000, listing);
    assert_true(error.has_value());
    assert_int_equal(static_cast<int>(error->problem), static_cast<int>(TokensProblem::Unreachable));
    assert_non_null(strstr(error->message.c_str(), "page 2"));
    assert_int_equal(t.urls.size(), 2);  // no other server mid-list: its pages may differ
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_urls_and_filters),
        cmocka_unit_test(test_follows_every_page),
        cmocka_unit_test(test_first_page_fails_over),
        cmocka_unit_test(test_all_servers_fail),
        cmocka_unit_test(test_status_answers),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_links_elsewhere_not_followed),
        cmocka_unit_test(test_links_in_circles_stop),
        cmocka_unit_test(test_later_page_failure),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

#include "facctl/fac_tokens.h"

#include <set>
#include <utility>

#include "core/text.h"
#include "http/url.h"

namespace pamfac {
namespace {

// A listing over this many pages is a server sending links in circles.
constexpr int kMaxPages = 100000;

void add_filter(std::string& url, const char* field, const std::string& value, bool ignore_case) {
    if (value.empty()) {
        return;
    }
    url += '&';
    url += field;
    if (ignore_case) {
        url += "__iexact";
    }
    url += '=';
    url += percent_encode(value);
}

TokensPage problem(TokensProblem kind, long status, std::string message) {
    TokensPage page;
    page.problem = kind;
    page.status = status;
    page.message = std::move(message);
    return page;
}

TokensPage from_net_error(const HttpResponse& r) {
    const std::string what = std::string(net_error_name(r.error)) + (r.detail.empty() ? "" : ": " + r.detail);
    switch (r.error) {
    case NetError::TlsVerify:
        return problem(TokensProblem::TlsFailure, 0, what + "; check ca_file, ca_path and pinned_pubkey");
    case NetError::TooLarge:
        return problem(TokensProblem::BadAnswer, 0, "token page too large; not read");
    default:
        return problem(TokensProblem::Unreachable, 0, what);
    }
}

const char* check_shape(const rapidjson::Document& doc) {
    if (!doc.IsObject()) {
        return "answer is not a JSON object";
    }
    const auto objects = doc.FindMember("objects");
    if (objects == doc.MemberEnd() || !objects->value.IsArray()) {
        return "answer has no \"objects\" list";
    }
    const auto meta = doc.FindMember("meta");
    if (meta == doc.MemberEnd() || !meta->value.IsObject()) {
        return "answer has no \"meta\" object";
    }
    const auto next = meta->value.FindMember("next");
    if (next != meta->value.MemberEnd() && !next->value.IsNull() && !next->value.IsString()) {
        return "meta.next is neither a link nor null";
    }
    for (const auto& token : objects->value.GetArray()) {
        if (!token.IsObject()) {
            return "a token in \"objects\" is not a JSON object";
        }
    }
    return nullptr;
}

}  // namespace

std::string tokens_url(const std::string& server, const TokenFilter& filter, int limit) {
    std::string url = server + kTokensPath + "?limit=" + std::to_string(limit);
    add_filter(url, "serial", filter.serial, filter.ignore_case);
    add_filter(url, "type", filter.type, filter.ignore_case);
    add_filter(url, "status", filter.status, filter.ignore_case);
    return url;
}

TokensPage fetch_tokens_page(Transport& transport, const std::string& url, long timeout_ms) {
    HttpRequest request;
    request.url = url;
    request.timeout_ms = timeout_ms;
    const HttpResponse r = transport.perform(request);
    if (r.error != NetError::None) {
        return from_net_error(r);
    }
    switch (r.status) {
    case 200:
        break;
    case 401:
        return problem(TokensProblem::CredentialsRejected, r.status,
                       "API key rejected (HTTP 401): check api_user and api_key");
    case 403:
        return problem(TokensProblem::PermissionDenied, r.status,
                       "admin lacks permission (HTTP 403): give api_user web-service access to FortiTokens");
    case 404:
        return problem(TokensProblem::BadAnswer, r.status,
                       std::string("no ") + kTokensPath + " here (HTTP 404): check the server URL and its prefix");
    case 502:
    case 503:
    case 504:
        return problem(TokensProblem::Unreachable, r.status,
                       "HTTP " + std::to_string(r.status) + " from a proxy or FAC");
    default:
        if (r.status >= 300 && r.status < 400) {
            return problem(TokensProblem::BadAnswer, r.status,
                           "redirected (HTTP " + std::to_string(r.status) + "), not followed: check the server URL");
        }
        return problem(r.status >= 500 ? TokensProblem::Unreachable : TokensProblem::BadAnswer, r.status,
                       "unexpected HTTP " + std::to_string(r.status));
    }
    TokensPage page;
    page.status = r.status;
    page.json.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(r.body.data(),
                                                                                            r.body.size());
    if (page.json.HasParseError()) {
        return problem(TokensProblem::BadAnswer, r.status, "answer is not valid JSON");
    }
    if (const char* bad = check_shape(page.json)) {
        return problem(TokensProblem::BadAnswer, r.status, bad);
    }
    return page;
}

std::optional<TokensError> list_tokens(Transport& transport, const std::vector<std::string>& servers,
                                       const TokenFilter& filter, long timeout_ms, TokenListing& out) {
    out.tokens.SetArray();
    out.pages = 0;
    out.total_count = -1;
    // Every page through one connection: one TLS handshake for the listing.
    const std::unique_ptr<Transport> via = transport.series(nullptr);
    TokensPage page;
    std::string url;
    std::string failures;
    TokensProblem last_problem = TokensProblem::Unreachable;
    for (const std::string& server : servers) {
        url = tokens_url(server, filter, kTokensPageLimit);
        page = fetch_tokens_page(*via, url, timeout_ms);
        if (page.problem == TokensProblem::None) {
            out.server = server;
            break;
        }
        last_problem = page.problem;
        failures += (failures.empty() ? "" : "; ") + server + ": " + page.message;
    }
    if (out.server.empty()) {
        return TokensError{last_problem, servers.size() == 1 ? page.message : "no server answered (" + failures + ")"};
    }
    const auto& meta = page.json["meta"];
    if (const auto total = meta.FindMember("total_count");
        total != meta.MemberEnd() && total->value.IsInt64() && total->value.GetInt64() >= 0) {
        out.total_count = static_cast<long>(total->value.GetInt64());
    }
    std::set<std::string> seen{url};
    auto& allocator = out.tokens.GetAllocator();
    for (;;) {
        ++out.pages;
        auto& objects = page.json["objects"];
        for (auto& token : objects.GetArray()) {
            out.tokens.PushBack(rapidjson::Value(token, allocator), allocator);
        }
        const auto next = page.json["meta"].FindMember("next");
        if (next == page.json["meta"].MemberEnd() || next->value.IsNull()) {
            return std::nullopt;
        }
        const std::string link(next->value.GetString(), next->value.GetStringLength());
        const auto resolved = resolve_same_origin(url, link);
        if (!resolved) {
            return TokensError{TokensProblem::BadAnswer, "page " + std::to_string(out.pages) + " from " + out.server +
                                                             ": meta.next '" + printable(link) +
                                                             "' leads to another server; not followed"};
        }
        if (objects.Empty() || !seen.insert(*resolved).second || out.pages >= kMaxPages) {
            return TokensError{TokensProblem::BadAnswer, "page " + std::to_string(out.pages) + " from " + out.server +
                                                             ": meta.next '" + printable(link) +
                                                             "' does not advance through the list; stopped"};
        }
        url = *resolved;
        page = fetch_tokens_page(*via, url, timeout_ms);
        if (page.problem != TokensProblem::None) {
            return TokensError{page.problem,
                               "page " + std::to_string(out.pages + 1) + " from " + out.server + ": " + page.message};
        }
    }
}

}  // namespace pamfac

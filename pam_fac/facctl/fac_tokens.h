// FortiAuthenticator's token list, GET /api/v1/fortitokens/ (docs/fac-api.md):
// filters, and pagination through meta.next. Also the cheap authenticated
// read facctl check uses to test the API credentials. Works over any
// Transport, so the pagination is unit-tested with a fake.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

#include "core/http.h"

namespace pamfac {

inline constexpr const char* kTokensPath = "/api/v1/fortitokens/";
inline constexpr int kTokensPageLimit = 1000;  // FAC's maximum page size

struct TokenFilter {
    std::string serial;        // empty: any
    std::string type;          // ftk, ftm
    std::string status;        // new, available, pending, assigned
    bool ignore_case = false;  // field__iexact= instead of field=
};

// "<server>/api/v1/fortitokens/?limit=<limit>[&type=ftm...]"
std::string tokens_url(const std::string& server, const TokenFilter& filter, int limit);

enum class TokensProblem {
    None,
    Unreachable,          // no answer: DNS, connect, timeout, 5xx
    TlsFailure,           // certificate, host name or pin
    CredentialsRejected,  // 401
    PermissionDenied,     // 403
    BadAnswer,            // an answer FAC would not give, or a broken link
};

struct TokensPage {
    TokensProblem problem = TokensProblem::None;
    std::string message;  // what went wrong and what to fix; never a secret
    long status = 0;
    rapidjson::Document json;  // the whole answer, when problem == None
};

// One GET of a token list page, answer checked: 200 with an object holding
// "objects" (array) and "meta" (object, "next" a string or null).
TokensPage fetch_tokens_page(Transport& transport, const std::string& url, long timeout_ms);

struct TokenListing {
    rapidjson::Document tokens{rapidjson::kArrayType};  // the token objects as FAC sent them
    std::string server;                                 // the server that answered
    int pages = 0;
    long total_count = -1;  // meta.total_count of the first page, if given
};

struct TokensError {
    TokensProblem problem = TokensProblem::BadAnswer;
    std::string message;
};

// Every token matching `filter`: the first page from the first server that
// answers it (the next is tried on any failure: a read is safe to repeat),
// then meta.next, resolved against the URL that answered, until it is null.
std::optional<TokensError> list_tokens(Transport& transport, const std::vector<std::string>& servers,
                                       const TokenFilter& filter, long timeout_ms, TokenListing& out);

}  // namespace pamfac

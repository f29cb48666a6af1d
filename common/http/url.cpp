#include "http/url.h"

#include <charconv>
#include <utility>
#include <vector>

#include "core/text.h"

namespace pamfac {
namespace {

std::size_t scheme_end(std::string_view url) {
    const std::size_t colon = url.find("://");
    if (colon == std::string_view::npos || colon == 0) {
        return std::string_view::npos;
    }
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = url[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!ok) {
            return std::string_view::npos;
        }
    }
    return colon;
}

// "https://host:port/path?query" -> "https://host:port", or empty.
std::string_view origin_part(std::string_view url) {
    const std::size_t colon = scheme_end(url);
    if (colon == std::string_view::npos) {
        return {};
    }
    const std::size_t authority_end = url.find_first_of("/?#", colon + 3);
    return url.substr(0, authority_end == std::string_view::npos ? url.size() : authority_end);
}

// RFC 3986 §5.2.4, on a path without query.
std::string remove_dot_segments(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    const bool absolute = !path.empty() && path.front() == '/';
    if (absolute) {
        i = 1;
    }
    bool trailing_slash = false;
    while (i <= path.size()) {
        std::size_t end = path.find('/', i);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string_view segment = path.substr(i, end - i);
        const bool last = end == path.size();
        if (segment == ".") {
            trailing_slash = last;
        } else if (segment == "..") {
            if (!out.empty()) {
                out.pop_back();
            }
            trailing_slash = last;
        } else {
            out.push_back(segment);
            trailing_slash = false;
        }
        i = end + 1;
    }
    std::string result = absolute ? "/" : "";
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (k > 0) {
            result += '/';
        }
        result += out[k];
    }
    if (trailing_slash && (result.empty() || result.back() != '/')) {
        result += '/';
    }
    return result;
}

// Splits "path?query" at the '?'; the query keeps its '?'.
std::pair<std::string_view, std::string_view> split_query(std::string_view s) {
    const std::size_t q = s.find('?');
    if (q == std::string_view::npos) {
        return {s, {}};
    }
    return {s.substr(0, q), s.substr(q)};
}

bool acceptable_bytes(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '\\' || c == '#' || c == '"' || c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

// Whitespace, controls (C0, DEL, C1) and the bytes that would start a
// query or fragment or confuse a Windows-minded parser.
bool has_bad_character(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '?' || c == '#' || c == '\\') {
            return true;
        }
    }
    return has_control_chars(s);
}

// "host[:port]" or "[v6][:port]" into `out`; a port is required when
// `need_port`, else 443 stands in for a missing one.
UrlProblem parse_authority(std::string_view authority, bool need_port, UrlAuthority& out) {
    std::string_view host = authority;
    std::string_view port;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return UrlProblem::UnterminatedIpv6;
        }
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return UrlProblem::Malformed;
            }
            port = after.substr(1);
            has_port = true;
        }
    } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        has_port = true;
    }
    if (host.empty()) {
        return UrlProblem::NoHost;
    }
    out.host = std::string(host);
    out.port = 443;
    if (!has_port) {
        return need_port ? UrlProblem::NoPort : UrlProblem::None;
    }
    int n = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || ptr != port.data() + port.size() || n < 1 || n > 65535) {
        return UrlProblem::BadPort;
    }
    out.port = n;
    return UrlProblem::None;
}

}  // namespace

ParsedUrl parse_server_url(std::string_view url) {
    ParsedUrl parsed;
    if (url.find('@') != std::string_view::npos) {
        parsed.problem = UrlProblem::Credentials;
    } else if (const std::size_t colon = scheme_end(url);
               colon == std::string_view::npos || ascii_lower(url.substr(0, colon)) != "https") {
        parsed.problem = UrlProblem::WrongScheme;
    } else if (has_bad_character(url)) {
        parsed.problem = UrlProblem::BadCharacter;
    } else {
        const std::string_view rest = url.substr(colon + 3);
        parsed.problem = parse_authority(rest.substr(0, rest.find('/')), false, parsed.authority);
    }
    return parsed;
}

ParsedUrl parse_proxy_url(std::string_view url) {
    ParsedUrl parsed;
    const std::size_t colon = scheme_end(url);
    const std::string scheme = colon == std::string_view::npos ? std::string() : ascii_lower(url.substr(0, colon));
    if (scheme != "http" && scheme != "https" && scheme != "socks5" && scheme != "socks5h") {
        parsed.problem = UrlProblem::WrongScheme;
        return parsed;
    }
    std::string_view rest = url.substr(colon + 3);
    if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        // A '/', '?' or '#' in the userinfo must be percent-encoded, or curl
        // would see another host than this check does.
        if (rest.substr(0, at).find_first_of("/?#") != std::string_view::npos) {
            parsed.problem = UrlProblem::Malformed;
            return parsed;
        }
        if (has_bad_character(rest.substr(0, at))) {
            parsed.problem = UrlProblem::BadCharacter;
            return parsed;
        }
        rest.remove_prefix(at + 1);
    }
    if (has_bad_character(rest)) {
        parsed.problem = UrlProblem::BadCharacter;
        return parsed;
    }
    const std::size_t slash = rest.find('/');
    if (slash != std::string_view::npos && slash + 1 != rest.size()) {
        parsed.problem = UrlProblem::Malformed;  // a proxy URL has no path
        return parsed;
    }
    parsed.problem = parse_authority(rest.substr(0, slash), true, parsed.authority);
    return parsed;
}

std::string redact_userinfo(std::string_view url) {
    const std::size_t colon = url.find("://");
    const std::size_t start = colon == std::string_view::npos ? 0 : colon + 3;
    // The last '@' of all: a password may hold an unencoded '/' or '@'.
    const std::size_t at = url.rfind('@');
    if (at == std::string_view::npos || at < start) {
        return std::string(url);
    }
    return std::string(url.substr(0, start)) + "***" + std::string(url.substr(at));
}

std::optional<UrlAuthority> url_authority(std::string_view url) {
    ParsedUrl parsed = parse_server_url(url);
    if (parsed.problem != UrlProblem::None) {
        return std::nullopt;
    }
    return std::move(parsed.authority);
}

std::string url_origin(std::string_view url) {
    return ascii_lower(origin_part(url));
}

std::optional<std::string> resolve_same_origin(std::string_view base, std::string_view reference) {
    const std::string_view base_origin = origin_part(base);
    if (base_origin.empty() || reference.empty() || !acceptable_bytes(reference)) {
        return std::nullopt;
    }
    std::string target;
    if (scheme_end(reference) != std::string_view::npos) {
        target = std::string(reference);
    } else if (reference.substr(0, 2) == "//") {
        target = std::string(base.substr(0, scheme_end(base) + 1)) + std::string(reference);
    } else {
        const auto [base_path_q, base_query] = split_query(base.substr(base_origin.size()));
        (void)base_query;
        const std::string_view base_path = base_path_q.empty() ? std::string_view("/") : base_path_q;
        const auto [ref_path, ref_query] = split_query(reference);
        std::string path;
        if (ref_path.empty()) {
            path = std::string(base_path);  // "?offset=20": same path, new query
        } else if (ref_path.front() == '/') {
            path = std::string(ref_path);
        } else {
            path = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(ref_path);
        }
        target = std::string(base_origin) + remove_dot_segments(path) + std::string(ref_query);
    }
    if (url_origin(target) != url_origin(base) || !acceptable_bytes(target)) {
        return std::nullopt;
    }
    if (scheme_end(reference) != std::string_view::npos || reference.substr(0, 2) == "//") {
        // Normalise the dot segments of an absolute link too.
        const std::string_view origin = origin_part(target);
        const auto [path, query] = split_query(std::string_view(target).substr(origin.size()));
        target = std::string(origin) + remove_dot_segments(path.empty() ? "/" : path) + std::string(query);
    }
    return target;
}

std::string percent_encode(std::string_view value) {
    static const char* const hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0x0F];
        }
    }
    return out;
}

}  // namespace pamfac

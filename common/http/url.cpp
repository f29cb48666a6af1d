#include "http/url.h"

#include <charconv>
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

}  // namespace

std::optional<UrlAuthority> url_authority(std::string_view url) {
    const std::size_t colon = scheme_end(url);
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view authority = origin_part(url).substr(colon + 3);
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
        return std::nullopt;
    }
    UrlAuthority result;
    std::string_view port;
    if (authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos || close == 1) {
            return std::nullopt;
        }
        result.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return std::nullopt;
            }
            port = after.substr(1);
        }
    } else {
        const std::size_t c = authority.find(':');
        result.host = std::string(authority.substr(0, c));
        if (c != std::string_view::npos) {
            port = authority.substr(c + 1);
        }
    }
    if (result.host.empty()) {
        return std::nullopt;
    }
    if (!port.empty()) {
        int n = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc() || ptr != port.data() + port.size() || n < 1 || n > 65535) {
            return std::nullopt;
        }
        result.port = n;
    } else if (ascii_lower(url.substr(0, colon)) != "https") {
        return std::nullopt;
    }
    return result;
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

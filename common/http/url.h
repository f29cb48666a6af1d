// The URL handling of the module and facctl: the one parser of server and
// proxy URLs, and where FAC's relative pagination links (meta.next) lead.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pamfac {

struct UrlAuthority {
    std::string host;  // without the brackets of an IPv6 literal
    int port = 443;
};

// Why a URL is not what its key allows; None when it is.
enum class UrlProblem {
    None,
    Credentials,       // user[:password]@ before the host
    WrongScheme,       // server: not https://; http_proxy: not http, https, socks5 or socks5h
    BadCharacter,      // whitespace, a control character, '\\', '?' or '#'
    UnterminatedIpv6,  // "[" without "]"
    Malformed,         // something between the host and the port or path
    NoHost,
    BadPort,  // not 1..65535
    NoPort,   // http_proxy only: curl's default proxy port is rarely the right one
};

struct ParsedUrl {
    UrlProblem problem = UrlProblem::None;
    UrlAuthority authority;  // when problem is None
};

// A server URL (pam_fac.conf(5), server): "https://host[:port][/prefix]",
// no credentials, query, fragment, whitespace or control characters.
[[nodiscard]] ParsedUrl parse_server_url(std::string_view url);

// An http_proxy URL: "scheme://[user[:password]@]host:port[/]" with scheme
// http, https, socks5 or socks5h. The userinfo is allowed here, and never
// shown: see redact_userinfo().
[[nodiscard]] ParsedUrl parse_proxy_url(std::string_view url);

// `url` with its userinfo (user:password@) replaced by "***@", for every
// message that shows a proxy URL.
[[nodiscard]] std::string redact_userinfo(std::string_view url);

// Host and port of a server URL; nullopt when parse_server_url() refuses it.
[[nodiscard]] std::optional<UrlAuthority> url_authority(std::string_view url);

// "https://host:port" of an absolute URL, lower-cased for comparison.
std::string url_origin(std::string_view url);

// `reference` resolved against `base` as RFC 3986 §5.2 says. Nullopt when
// it leads to another origin, or holds bytes a URL never has: links come
// from the server, and the API key goes with every request that follows one.
std::optional<std::string> resolve_same_origin(std::string_view base, std::string_view reference);

// A query component value with everything but RFC 3986's unreserved
// characters percent-encoded.
std::string percent_encode(std::string_view value);

}  // namespace pamfac

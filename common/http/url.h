// The little URL handling facctl needs: where a server URL points, and
// where FAC's relative pagination links (meta.next) lead.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pamfac {

struct UrlAuthority {
    std::string host;  // without the brackets of an IPv6 literal
    int port = 443;
};

// Host and port of "https://host[:port][/prefix]" (the forms config.cpp
// accepts); nullopt for anything else.
std::optional<UrlAuthority> url_authority(std::string_view url);

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

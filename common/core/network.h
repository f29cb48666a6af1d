// IP networks for trusted_networks: parsed once from the config, matched
// against PAM_RHOST, which must be an IP literal to match anything.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace pamfac {

struct Network {
    int family = 0;  // AF_INET or AF_INET6
    std::array<unsigned char, 16> address{};
    int prefix = 0;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
std::optional<Network> parse_network(std::string_view text);

// False for host names and empty strings: only literals are ever trusted.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 networks.
bool network_contains(const Network& network, const std::string& address);

}  // namespace pamfac

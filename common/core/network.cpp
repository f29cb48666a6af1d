#include "core/network.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace pamfac {
namespace {

bool prefix_matches(const unsigned char* a, const unsigned char* b, int prefix) {
    const int whole = prefix / 8;
    if (std::memcmp(a, b, static_cast<std::size_t>(whole)) != 0) {
        return false;
    }
    const int rest = prefix % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<Network> parse_network(std::string_view text) {
    const std::size_t slash = text.find('/');
    const std::string address(text.substr(0, slash));
    Network n;
    if (inet_pton(AF_INET, address.c_str(), n.address.data()) == 1) {
        n.family = AF_INET;
        n.prefix = 32;
    } else if (inet_pton(AF_INET6, address.c_str(), n.address.data()) == 1) {
        n.family = AF_INET6;
        n.prefix = 128;
    } else {
        return std::nullopt;
    }
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        int prefix = -1;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || prefix < 0 ||
            prefix > n.prefix) {
            return std::nullopt;
        }
        n.prefix = prefix;
    }
    return n;
}

bool network_contains(const Network& network, const std::string& address) {
    unsigned char bytes[16] = {0};
    if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
        return network.family == AF_INET && prefix_matches(bytes, network.address.data(), network.prefix);
    }
    if (inet_pton(AF_INET6, address.c_str(), bytes) != 1) {
        return false;
    }
    static const unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (network.family == AF_INET && std::memcmp(bytes, kMappedPrefix, sizeof kMappedPrefix) == 0) {
        return prefix_matches(bytes + 12, network.address.data(), network.prefix);
    }
    return network.family == AF_INET6 && prefix_matches(bytes, network.address.data(), network.prefix);
}

}  // namespace pamfac

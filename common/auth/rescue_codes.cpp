#include "auth/rescue_codes.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace pamfac {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::optional<Secret> normalise_rescue_code(std::string_view typed) {
    if (typed.size() != kRescueCodeLength) {
        return std::nullopt;
    }
    Secret code;
    bool has_letter = false;
    for (char c : typed) {
        const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        if (kRescueAlphabet.find(upper) == std::string_view::npos) {
            return std::nullopt;
        }
        has_letter = has_letter || !is_digit(upper);
        code.append(std::string_view(&upper, 1));
    }
    if (!has_letter) {
        return std::nullopt;
    }
    return code;
}

std::optional<std::vector<Secret>> generate_rescue_codes(std::size_t count, std::string& problem) {
    // Bytes at or above this bound are dropped, so every character is
    // equally likely.
    constexpr unsigned kBound = 256 - 256 % kRescueAlphabet.size();
    std::vector<Secret> codes;
    while (codes.size() < count) {
        Secret code;
        while (code.size() < kRescueCodeLength) {
            unsigned char bytes[32];
            const ssize_t n = getrandom(bytes, sizeof bytes, 0);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                problem = std::string("no random bytes: ") + std::strerror(errno);
                return std::nullopt;
            }
            for (ssize_t i = 0; i < n && code.size() < kRescueCodeLength; ++i) {
                if (bytes[i] < kBound) {
                    const char c = kRescueAlphabet[bytes[i] % kRescueAlphabet.size()];
                    code.append(std::string_view(&c, 1));
                }
            }
            wipe_memory(bytes, sizeof bytes);
        }
        // All digits would look like a long numeric code: draw again.
        if (normalise_rescue_code(code.view())) {
            codes.push_back(std::move(code));
        }
    }
    return codes;
}

}  // namespace pamfac

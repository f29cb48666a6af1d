// Shared by the fuzz targets: property checks that abort (a libFuzzer
// finding) with a message naming the property.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/http.h"

namespace fuzzcheck {

inline void require(bool condition, const char* property) {
    if (!condition) {
        std::fprintf(stderr, "property violated: %s\n", property);
        std::abort();
    }
}

// No C0 control byte, no DEL, no C1 control (UTF-8 C2 80..C2 9F).
inline bool free_of_controls(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
            return false;
        }
    }
    return true;
}

// The NetError a seed names ("connect", "tls_verify", ...); None otherwise.
inline pamfac::NetError error_named(std::string_view word) {
    static const struct {
        const char* name;
        pamfac::NetError error;
    } names[] = {
        {"resolve", pamfac::NetError::Resolve},
        {"connect", pamfac::NetError::Connect},
        {"connect_timeout", pamfac::NetError::ConnectTimeout},
        {"tls_handshake", pamfac::NetError::TlsHandshake},
        {"tls_verify", pamfac::NetError::TlsVerify},
        {"timeout", pamfac::NetError::Timeout},
        {"too_large", pamfac::NetError::TooLarge},
        {"no_answer", pamfac::NetError::NoAnswer},
        {"broken", pamfac::NetError::Broken},
        {"local", pamfac::NetError::Local},
        {"cancelled", pamfac::NetError::Cancelled},
        {"other", pamfac::NetError::Other},
    };
    for (const auto& n : names) {
        if (word == n.name) {
            return n.error;
        }
    }
    return pamfac::NetError::None;
}

}  // namespace fuzzcheck

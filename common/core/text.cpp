#include "core/text.h"

#include <cstdio>

namespace pamfac {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) {
        return 1;
    }
    std::size_t len = 0;
    unsigned int min_code = 0;
    unsigned int code = 0;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min_code = 0x80;
        code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min_code = 0x800;
        code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min_code = 0x10000;
        code = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return 0;
        }
        code = (code << 6) | (byte(i + k) & 0x3F);
    }
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return 0;
    }
    return len;
}

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

// U+0080..U+009F, encoded C2 80..C2 9F: C1 controls, CSI among them.
bool is_c1_control_at(std::string_view s, std::size_t i) {
    return i + 1 < s.size() && static_cast<unsigned char>(s[i]) == 0xC2 &&
           static_cast<unsigned char>(s[i + 1]) >= 0x80 && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

std::string hex_escape(unsigned char c) {
    char buf[5];
    (void)std::snprintf(buf, sizeof buf, "\\x%02x", c);
    return buf;
}

}  // namespace

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n\f\v";
    const std::size_t first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) {
        return {};
    }
    const std::size_t last = s.find_last_not_of(ws);
    return s.substr(first, last - first + 1);
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool has_control_chars(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (is_control(static_cast<unsigned char>(s[i])) || is_c1_control_at(s, i)) {
            return true;
        }
    }
    return false;
}

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = utf8_sequence_length(s, i);
        if (len == 0 || is_control(c)) {
            out += hex_escape(c);
            ++i;
        } else if (is_c1_control_at(s, i)) {
            out += hex_escape(c) + hex_escape(static_cast<unsigned char>(s[i + 1]));
            i += 2;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string display_safe(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            out += '?';
            ++i;
        } else if (is_control(c)) {
            ++i;
        } else if (is_c1_control_at(s, i)) {
            i += 2;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string log_value(std::string_view s) {
    bool bare = !s.empty();
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '=') {
            bare = false;
            break;
        }
    }
    if (bare) {
        return std::string(s);
    }
    std::string escaped;
    escaped.reserve(s.size() + 2);
    for (char c : s) {
        if (c == '"' || c == '\\') {
            escaped += '\\';
        }
        escaped += c;
    }
    std::string out = "\"" + printable(escaped);
    out += '"';
    return out;
}

}  // namespace pamfac

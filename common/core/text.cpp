#include "core/text.h"

#include <cstdio>

namespace pamfac {
namespace {

// The valid UTF-8 sequence starting at s[i]: its length (0 when invalid)
// and its code point.
struct Utf8Char {
    std::size_t len = 0;
    char32_t code = 0;
};

Utf8Char decode_utf8(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) {
        return {1, c};
    }
    std::size_t len = 0;
    char32_t min_code = 0;
    char32_t code = 0;
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
        return {};
    }
    if (i + len > s.size()) {
        return {};
    }
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return {};
        }
        code = (code << 6) | (byte(i + k) & 0x3F);
    }
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return {};
    }
    return {len, code};
}

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

// U+0080..U+009F, encoded C2 80..C2 9F: C1 controls, CSI among them.
bool is_c1_control_at(std::string_view s, std::size_t i) {
    return i + 1 < s.size() && static_cast<unsigned char>(s[i]) == 0xC2 &&
           static_cast<unsigned char>(s[i + 1]) >= 0x80 && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

// Characters that reorder or break what a reader sees without being C0 or
// C1 controls: a right-to-left override can make "user=mallory" read as
// something else, a line separator starts a new line in some viewers.
bool is_format_control(char32_t code) {
    return code == 0x061C || code == 0x200E || code == 0x200F || (code >= 0x202A && code <= 0x202E) ||
           (code >= 0x2066 && code <= 0x2069) || code == 0x2028 || code == 0x2029;
}

// What printable() escapes and display_safe() drops: C0 and C1 controls,
// DEL, and the format controls above.
bool is_unsafe(Utf8Char ch) {
    return ch.code < 0x20 || (ch.code >= 0x7f && ch.code <= 0x9f) || is_format_control(ch.code);
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
        const std::size_t len = decode_utf8(s, i).len;
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
        const Utf8Char ch = decode_utf8(s, i);
        if (ch.len == 0) {
            out += hex_escape(static_cast<unsigned char>(s[i]));
            ++i;
            continue;
        }
        if (is_unsafe(ch)) {
            for (std::size_t k = 0; k < ch.len; ++k) {
                out += hex_escape(static_cast<unsigned char>(s[i + k]));
            }
        } else {
            out.append(s.substr(i, ch.len));
        }
        i += ch.len;
    }
    return out;
}

std::string display_safe(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const Utf8Char ch = decode_utf8(s, i);
        if (ch.len == 0) {
            out += '?';
            ++i;
            continue;
        }
        if (!is_unsafe(ch)) {
            out.append(s.substr(i, ch.len));
        }
        i += ch.len;
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

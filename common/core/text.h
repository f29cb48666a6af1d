// Small string helpers shared by the parser, the flow and the logs.
#pragma once

#include <string>
#include <string_view>

namespace pamfac {

std::string_view trim(std::string_view s);
std::string ascii_lower(std::string_view s);
bool has_control_chars(std::string_view s);
bool is_valid_utf8(std::string_view s);

// For logs and error messages: bytes that are not printable ASCII or valid
// UTF-8 become \xHH, and so do the bytes of C1 controls, the bidirectional
// controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) and the
// line and paragraph separators (U+2028, U+2029), so neither a log line nor
// a terminal can be forged.
std::string printable(std::string_view s);

// For text shown to the user that came from a server or the network:
// the characters printable() escapes are dropped, invalid UTF-8 replaced by
// '?'.
std::string display_safe(std::string_view s);

// A log field value: bare when it is a simple token, otherwise quoted with
// \" and \\ escaped. Non-printable bytes are escaped as in printable().
std::string log_value(std::string_view s);

}  // namespace pamfac

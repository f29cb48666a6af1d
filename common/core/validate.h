// Input checks done before anything is sent (pam_fac(8), THE CONVERSATION).
#pragma once

#include <string_view>

namespace pamfac {

inline constexpr std::size_t kMaxUsernameBytes = 253;
inline constexpr std::size_t kMaxPasswordBytes = 512;  // pam_fac(8), THE CONVERSATION; longer is refused, not sent

// Non-empty, at most 253 bytes, valid UTF-8, no control characters.
bool is_valid_username(std::string_view user);

// 6 to 8 ASCII digits.
bool is_valid_code(std::string_view code);

// otp_append: the answer must end with a plausible code after a password.
bool ends_with_code(std::string_view answer);

}  // namespace pamfac

// Input checks done before anything is sent (pam_fac(8), THE CONVERSATION).
#pragma once

#include <string_view>

namespace pamfac {

inline constexpr std::size_t kMaxUsernameBytes = 253;
inline constexpr std::size_t kMaxPasswordBytes = 512;  // pam_fac(8), THE CONVERSATION; longer is refused, not sent
inline constexpr std::size_t kMaxCodeBytes = 8;
// otp_append: a password of at most 512 bytes followed by a code of at most 8.
inline constexpr std::size_t kMaxAppendedAnswerBytes = kMaxPasswordBytes + kMaxCodeBytes;

// Non-empty, at most 253 bytes, valid UTF-8, no control characters.
bool is_valid_username(std::string_view user);

// 6 to 8 ASCII digits.
bool is_valid_code(std::string_view code);

// otp_append: the answer must end with a plausible code after a password.
bool ends_with_code(std::string_view answer);

// otp_append: the answer is no longer than kMaxAppendedAnswerBytes; a longer
// one is refused, not sent.
bool appended_answer_fits(std::string_view answer);

}  // namespace pamfac

// The shape of a rescue code (facctl rescue): 12 characters from an
// alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, B), at least one a
// letter, so a rescue code is never taken for a 6 to 8 digit FortiToken
// code and never sent to FAC.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"

namespace pamfac {

inline constexpr std::string_view kRescueAlphabet = "346789ACDEFGHJKMNPQRTUVWXY";
inline constexpr std::size_t kRescueCodeLength = 12;

// The code as stored and compared: upper case. Nullopt when `typed` does
// not have a rescue code's shape (case is not significant).
std::optional<Secret> normalise_rescue_code(std::string_view typed);

// `count` new codes from the kernel's random source; nullopt (and `problem`)
// if it fails.
std::optional<std::vector<Secret>> generate_rescue_codes(std::size_t count, std::string& problem);

}  // namespace pamfac

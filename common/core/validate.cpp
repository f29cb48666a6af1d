#include "core/validate.h"

#include "core/text.h"

namespace pamfac {

bool is_valid_username(std::string_view user) {
    return !user.empty() && user.size() <= kMaxUsernameBytes && is_valid_utf8(user) && !has_control_chars(user);
}

bool is_valid_code(std::string_view code) {
    if (code.size() < 6 || code.size() > kMaxCodeBytes) {
        return false;
    }
    for (char c : code) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

bool ends_with_code(std::string_view answer) {
    std::size_t digits = 0;
    while (digits < answer.size() && answer[answer.size() - 1 - digits] >= '0' &&
           answer[answer.size() - 1 - digits] <= '9') {
        ++digits;
    }
    return digits >= 6 && answer.size() > 6;
}

bool appended_answer_fits(std::string_view answer) {
    return answer.size() <= kMaxAppendedAnswerBytes;
}

}  // namespace pamfac

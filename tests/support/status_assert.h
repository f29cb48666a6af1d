// Assertions on results that print their names (PAM_AUTHINFO_UNAVAIL, not
// 9) when they fail. Include after cmocka_cpp.h.
#pragma once

#include <security/_pam_types.h>

#include "core/outcome.h"

namespace testsupport {

inline const char* pam_rc_name(int rc) {
    switch (rc) {
    case PAM_SUCCESS:
        return "PAM_SUCCESS";
    case PAM_AUTH_ERR:
        return "PAM_AUTH_ERR";
    case PAM_USER_UNKNOWN:
        return "PAM_USER_UNKNOWN";
    case PAM_IGNORE:
        return "PAM_IGNORE";
    case PAM_AUTHINFO_UNAVAIL:
        return "PAM_AUTHINFO_UNAVAIL";
    case PAM_SERVICE_ERR:
        return "PAM_SERVICE_ERR";
    case PAM_CONV_ERR:
        return "PAM_CONV_ERR";
    case PAM_BUF_ERR:
        return "PAM_BUF_ERR";
    case PAM_PERM_DENIED:
        return "PAM_PERM_DENIED";
    case PAM_ABORT:
        return "PAM_ABORT";
    case PAM_SYSTEM_ERR:
        return "PAM_SYSTEM_ERR";
    default:
        return "(another PAM code)";
    }
}

}  // namespace testsupport

#define assert_status(actual, expected) \
    assert_string_equal(pamfac::pam_code_name(actual), pamfac::pam_code_name(expected))
#define assert_pam_rc(actual, expected) \
    assert_string_equal(testsupport::pam_rc_name(actual), testsupport::pam_rc_name(expected))

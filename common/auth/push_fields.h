// The fields of a push request (pam_fac(8), THE CONVERSATION) built from the login.
#pragma once

#include <ctime>
#include <string>

#include "core/backend.h"
#include "core/login.h"

namespace pamfac {

bool is_ip_literal(const std::string& host);

// UTC, ISO 8601: 2026-11-23T01:26:19Z
std::string utc_timestamp(std::time_t when);

// Fills {service} {user} {rhost} {host} {tty}; unknown {names} stay as
// written. Control characters from any source are removed.
std::string expand_push_message(const std::string& pattern, const LoginContext& login);

PushFields make_push_fields(const LoginContext& login, const std::string& username, const std::string& pattern,
                            const std::string& user_agent, std::time_t now);

}  // namespace pamfac

// How FortiAuthenticator's answers are read (docs/fac-api.md, pam_fac(8), RETURN VALUES).
#pragma once

#include <string>
#include <string_view>

#include "core/backend.h"
#include "core/http.h"

namespace pamfac {

enum class Endpoint { Auth, RealmAuth, PushAuth };

// FAC's plain-text messages, tolerant of case, surrounding whitespace and
// quotes, and of a JSON wrapper such as {"error": "..."}. Lower-cased.
std::string normalise_answer_text(std::string_view body);

// Whether trying the next server is allowed: only when this request cannot
// have reached FAC's authentication logic, so a code is never checked twice
// and a push never sent twice.
bool allows_failover(const HttpResponse& response, Endpoint endpoint);

// The verdict for one server's answer. `detail` explains it for the log.
Verdict classify_answer(const HttpResponse& response, Endpoint endpoint, std::string& detail);

}  // namespace pamfac

// How FortiAuthenticator's answers are read (docs/fac-api.md, pam_fac(8), RETURN VALUES).
#pragma once

#include <string>
#include <string_view>

#include "core/backend.h"
#include "core/http.h"

namespace pamfac {

enum class Endpoint { Auth, RealmAuth, PushAuth };

const char* endpoint_path(Endpoint e);

// What a log line shows of an answer nobody expected (FAC's or FTC's): its
// first printable bytes, or "empty body".
std::string body_excerpt(const std::string& body);

// FAC's plain-text messages, tolerant of case, surrounding whitespace and
// quotes, and of a JSON wrapper such as {"error": "..."}. Lower-cased.
std::string normalise_answer_text(std::string_view body);

// Whether trying the next server is allowed: only when this request cannot
// have reached FAC's authentication logic, so a code is never checked twice
// and a push never sent twice.
bool allows_failover(const HttpResponse& response, Endpoint endpoint);

// The verdict for one server's answer: Outage only as core/outage.h decides
// (`caller_controls_timing`: see there); a 200 or 202 is a yes only with no
// body or a JSON object reporting no error; after a push went out, nothing
// is an outage. `detail` explains the verdict for the log.
Verdict classify_answer(const HttpResponse& response, Endpoint endpoint, bool caller_controls_timing,
                        std::string& detail);

}  // namespace pamfac

// The one decision of "no server reachable", the only case where
// failmode = safe (and offline_grace) may let a login through without the
// second factor (pam_fac(8), RETURN VALUES). Every client (FAC, FTC; code,
// push, realm) asks this function about a request that got no documented
// answer; nothing else may call a failure an outage.
#pragma once

#include "core/http.h"

namespace pamfac {

struct RequestKind {
    // The request could have sent a push (FAC /pushauth/, FTC's push start
    // or a poll of it): after that, nothing is an outage.
    bool carries_push = false;
    // A 500 means the authentication service itself is down (FAC /auth/
    // and /realmauth/), not "the push server refused" (/pushauth/).
    bool server_error_is_outage = false;
};

enum class FailureKind {
    Outage,         // the request reached no working server
    NotUnderstood,  // an answer or failure that is no evidence of an outage
    LocalFailure,   // this process failed: never the server's fault
    TlsFailure,     // certificate, host name or pin: an attack or a misconfiguration
    Cancelled,      // abandoned by the caller (autopush: a code won)
};

// For a response that is not one of the documented answers. A timeout
// counts as an outage only where the caller cannot stop and resume this
// process (`caller_controls_timing` false).
FailureKind classify_failure(const HttpResponse& response, const RequestKind& kind, bool caller_controls_timing);

// True in a process started setuid or setgid (getauxval(AT_SECURE): sudo,
// su, pkexec), whose caller may stop and continue it (Ctrl-Z, SIGSTOP) so
// that an answer already in the socket looks like a timeout.
bool process_timing_is_callers();

}  // namespace pamfac

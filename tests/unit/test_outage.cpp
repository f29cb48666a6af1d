// Unit tests of common/core/outage.h: the one decision of what is an
// outage (pam_fac(8), RETURN VALUES), the only failure failmode = safe and
// offline_grace may let a login through on.
#include <string>

#include "core/http.h"
#include "core/outage.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

constexpr RequestKind kCode{false, true};  // /auth/, /realmauth/
constexpr RequestKind kPush{true, false};  // /pushauth/, FTC's push and polls
constexpr RequestKind kNoServer5xx{false, false};

HttpResponse failure(NetError e) {
    HttpResponse r;
    r.error = e;
    return r;
}

HttpResponse status(long s) {
    HttpResponse r;
    r.status = s;
    return r;
}

const char* kind_name(FailureKind kind) {
    switch (kind) {
    case FailureKind::Outage:
        return "outage";
    case FailureKind::NotUnderstood:
        return "not understood";
    case FailureKind::LocalFailure:
        return "local failure";
    case FailureKind::TlsFailure:
        return "TLS failure";
    case FailureKind::Cancelled:
        return "cancelled";
    }
    return "?";
}

void expect(const HttpResponse& r, const RequestKind& kind, bool setuid, FailureKind want) {
    const FailureKind got = classify_failure(r, kind, setuid);
    if (got != want) {
        fail_msg("error %s status %ld push %d setuid %d: got %s, want %s", net_error_name(r.error), r.status,
                 kind.carries_push, setuid, kind_name(got), kind_name(want));
    }
}

void the_network_says_the_request_went_nowhere(void** /*state*/) {
    for (const bool setuid : {false, true}) {
        for (const RequestKind& kind : {kCode, kPush}) {
            expect(failure(NetError::Resolve), kind, setuid, FailureKind::Outage);
            expect(failure(NetError::Connect), kind, setuid, FailureKind::Outage);
        }
    }
}

// The caller of a setuid program can stop it: its timeouts prove nothing.
void connect_timeouts_count_unless_the_caller_controls_timing(void** /*state*/) {
    expect(failure(NetError::ConnectTimeout), kCode, false, FailureKind::Outage);
    expect(failure(NetError::ConnectTimeout), kCode, true, FailureKind::NotUnderstood);
}

// Closed before any answer: an outage, unless the request carried a push.
void no_answer(void** /*state*/) {
    expect(failure(NetError::NoAnswer), kCode, false, FailureKind::Outage);
    expect(failure(NetError::NoAnswer), kPush, false, FailureKind::NotUnderstood);
}

void failures_after_the_request_may_have_arrived(void** /*state*/) {
    for (NetError e :
         {NetError::Timeout, NetError::TlsHandshake, NetError::TooLarge, NetError::Broken, NetError::Other}) {
        expect(failure(e), kCode, false, FailureKind::NotUnderstood);
        expect(failure(e), kPush, false, FailureKind::NotUnderstood);
    }
}

void tls_local_and_cancelled_are_their_own(void** /*state*/) {
    expect(failure(NetError::TlsVerify), kCode, false, FailureKind::TlsFailure);
    expect(failure(NetError::Local), kCode, false, FailureKind::LocalFailure);
    expect(failure(NetError::Cancelled), kPush, false, FailureKind::Cancelled);
}

void proxy_statuses_are_an_outage_without_a_push(void** /*state*/) {
    for (long s : {502L, 503L, 504L}) {
        expect(status(s), kCode, false, FailureKind::Outage);
        expect(status(s), kCode, true, FailureKind::Outage);  // the network's own report
        expect(status(s), kPush, false, FailureKind::NotUnderstood);
    }
}

// 500 is an outage of FAC's authentication only where the endpoint says so.
void server_error_500(void** /*state*/) {
    expect(status(500), kCode, false, FailureKind::Outage);
    expect(status(500), kNoServer5xx, false, FailureKind::NotUnderstood);
    expect(status(500), kPush, false, FailureKind::NotUnderstood);
}

void every_other_status_is_not_understood(void** /*state*/) {
    for (long s = 100; s < 600; ++s) {
        if (s == 500 || s == 502 || s == 503 || s == 504) {
            continue;
        }
        expect(status(s), kCode, false, FailureKind::NotUnderstood);
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_network_says_the_request_went_nowhere),
        cmocka_unit_test(connect_timeouts_count_unless_the_caller_controls_timing),
        cmocka_unit_test(no_answer),
        cmocka_unit_test(failures_after_the_request_may_have_arrived),
        cmocka_unit_test(tls_local_and_cancelled_are_their_own),
        cmocka_unit_test(proxy_statuses_are_an_outage_without_a_push),
        cmocka_unit_test(server_error_500),
        cmocka_unit_test(every_other_status_is_not_understood),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

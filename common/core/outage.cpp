#include "core/outage.h"

#include <sys/auxv.h>

namespace pamfac {

FailureKind classify_failure(const HttpResponse& response, const RequestKind& kind, bool caller_controls_timing) {
    switch (response.error) {
    case NetError::None:
        break;
    case NetError::Resolve:
    case NetError::Connect:
        // What the network itself reports: the request went nowhere.
        return FailureKind::Outage;
    case NetError::ConnectTimeout:
        return caller_controls_timing ? FailureKind::NotUnderstood : FailureKind::Outage;
    case NetError::NoAnswer:
        // Nothing came back, but a push may have gone out before the close.
        return kind.carries_push ? FailureKind::NotUnderstood : FailureKind::Outage;
    case NetError::TlsVerify:
        return FailureKind::TlsFailure;
    case NetError::Local:
        return FailureKind::LocalFailure;
    case NetError::Cancelled:
        return FailureKind::Cancelled;
    case NetError::TlsHandshake:
    case NetError::Timeout:
    case NetError::TooLarge:
    case NetError::Broken:
    case NetError::Other:
        return FailureKind::NotUnderstood;
    }
    if (kind.carries_push) {
        return FailureKind::NotUnderstood;
    }
    switch (response.status) {
    case 502:
    case 503:
    case 504:
        return FailureKind::Outage;
    case 500:
        return kind.server_error_is_outage ? FailureKind::Outage : FailureKind::NotUnderstood;
    default:
        return FailureKind::NotUnderstood;
    }
}

bool process_timing_is_callers() {
    return getauxval(AT_SECURE) != 0;
}

}  // namespace pamfac

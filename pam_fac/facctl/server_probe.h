// Network diagnostics for facctl check: DNS, TCP, TLS handshake,
// certificate, pin. Never sends the API credentials or any request: the
// TLS probes stop after the handshake, so an untrusted server learns nothing.
#pragma once

#include <string>
#include <vector>

#include "http/curl_transport.h"

namespace pamfac {

enum class StepState { Ok, Warn, Fail, Skipped, NotConfigured };

struct ProbeStep {
    StepState state = StepState::Skipped;
    std::string detail;  // for the table; server-supplied text already made display-safe
    long ms = -1;        // -1: not measured
};

struct CertificateInfo {
    bool present = false;
    std::string subject;
    std::string issuer;
    std::string not_after;  // "YYYY-MM-DD", empty if unknown
    long days_left = 0;     // negative once expired
    bool expiry_known = false;
    std::string pem;  // the certificate itself, for facctl to show its key's pin
};

struct ServerProbe {
    std::string url;
    ProbeStep dns;
    ProbeStep tcp;
    ProbeStep tls;
    ProbeStep cert;
    ProbeStep pin;
    CertificateInfo certificate;
    // True when TCP and TLS (verification and pin included) went through,
    // so an API request has a chance.
    bool reachable = false;
};

// Certificates closer than this to expiry are flagged.
inline constexpr long kCertWarnDays = 30;

ServerProbe probe_server(const std::string& server_url, const TransportSettings& settings);

}  // namespace pamfac

#include "facctl/server_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

#include "core/clock.h"
#include "core/text.h"
#include "http/url.h"

namespace pamfac {
namespace {

using Clock = std::chrono::steady_clock;

std::string with_ms(const std::string& text, long ms) {
    return text + " (" + std::to_string(ms) + " ms)";
}

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    std::string text;
};

// getaddrinfo_a, so that a dead resolver costs connect_timeout and not the
// resolver's own minute. The request lives on the heap: when it cannot be
// cancelled, the resolver thread still writes into it, so it is let go.
struct Lookup {
    std::string host;
    std::string service;
    addrinfo hints{};
    gaicb request{};
};

ProbeStep resolve(const UrlAuthority& where, long timeout_ms, std::vector<Address>& out) {
    ProbeStep step;
    auto lookup = std::make_unique<Lookup>();
    lookup->host = where.host;
    lookup->service = std::to_string(where.port);
    lookup->hints.ai_family = AF_UNSPEC;
    lookup->hints.ai_socktype = SOCK_STREAM;
    lookup->hints.ai_flags = AI_ADDRCONFIG;
    lookup->request.ar_name = lookup->host.c_str();
    lookup->request.ar_service = lookup->service.c_str();
    lookup->request.ar_request = &lookup->hints;
    gaicb* list[1] = {&lookup->request};
    const auto start = Clock::now();
    int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, nullptr);
    if (rc == 0) {
        while ((rc = gai_error(&lookup->request)) == EAI_INPROGRESS) {
            const long left = timeout_ms - pamfac::elapsed_ms(start);
            if (left <= 0) {
                break;
            }
            timespec ts{left / 1000, (left % 1000) * 1000000L};
            gai_suspend(list, 1, &ts);
        }
        if (rc == EAI_INPROGRESS) {
            const int cancelled = gai_cancel(&lookup->request);
            if (cancelled == EAI_ALLDONE) {
                rc = gai_error(&lookup->request);  // it finished after all
            } else {
                if (cancelled == EAI_NOTCANCELED) {
                    (void)lookup.release();  // see Lookup
                }
                step.state = StepState::Fail;
                step.ms = pamfac::elapsed_ms(start);
                step.detail = "no answer for " + printable(where.host) + " within connect_timeout";
                return step;
            }
        }
    }
    step.ms = pamfac::elapsed_ms(start);
    if (rc != 0) {
        step.state = StepState::Fail;
        step.detail = with_ms("cannot resolve " + printable(where.host) + ": " + gai_strerror(rc), step.ms);
        return step;
    }
    std::string shown;
    for (const addrinfo* ai = lookup->request.ar_result; ai != nullptr; ai = ai->ai_next) {
        Address a;
        std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
        a.length = ai->ai_addrlen;
        char text[INET6_ADDRSTRLEN] = {0};
        const void* raw = ai->ai_family == AF_INET6
                              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr);
        inet_ntop(ai->ai_family, raw, text, sizeof text);
        a.text = text;
        if (shown.find(a.text) == std::string::npos) {
            shown += (shown.empty() ? "" : ", ") + a.text;
        }
        out.push_back(a);
    }
    freeaddrinfo(lookup->request.ar_result);
    step.state = out.empty() ? StepState::Fail : StepState::Ok;
    step.detail = with_ms(out.empty() ? "no addresses" : shown, step.ms);
    return step;
}

// A plain TCP connect to each address in turn, bounded by connect_timeout.
ProbeStep connect_tcp(const std::vector<Address>& addresses, int port, long timeout_ms) {
    ProbeStep step;
    std::string failures;
    for (const Address& a : addresses) {
        const int fd = ::socket(a.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            failures += (failures.empty() ? "" : "; ") + a.text + ": " + std::strerror(errno);
            continue;
        }
        const auto start = Clock::now();
        int error = 0;
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) != 0) {
            error = errno;
            if (error == EINPROGRESS) {
                pollfd pfd{fd, POLLOUT, 0};
                const int ready = ::poll(&pfd, 1, static_cast<int>(timeout_ms));
                if (ready == 0) {
                    error = ETIMEDOUT;
                } else if (ready < 0) {
                    error = errno;
                } else {
                    socklen_t len = sizeof error;
                    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
                        error = errno;
                    }
                }
            }
        }
        const long ms = pamfac::elapsed_ms(start);
        ::close(fd);
        if (error == 0) {
            step.state = StepState::Ok;
            step.ms = ms;
            step.detail = with_ms("connected to " + a.text + " port " + std::to_string(port), ms);
            return step;
        }
        failures += (failures.empty() ? "" : "; ") + a.text + " port " + std::to_string(port) + ": " +
                    (error == ETIMEDOUT ? "no answer within connect_timeout" : std::strerror(error));
    }
    step.state = StepState::Fail;
    step.detail = failures.empty() ? "no address to connect to" : failures;
    return step;
}

struct Handshake {
    CURLcode rc = CURLE_OK;
    std::string error;
    long tls_ms = -1;
    CertificateInfo cert;
};

std::string after_colon(const char* field, std::size_t prefix) {
    return std::string(field + prefix);
}

// "Feb 25 01:54:22 2029 GMT" (OpenSSL's form, C locale).
bool parse_expiry(const std::string& text, CertificateInfo& cert) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%b %d %H:%M:%S %Y GMT", &tm);
    if (end == nullptr) {
        return false;
    }
    const std::time_t when = timegm(&tm);
    char day[16];
    cert.not_after = std::strftime(day, sizeof day, "%Y-%m-%d", &tm) > 0 ? day : "";
    const double seconds = std::difftime(when, std::time(nullptr));
    cert.days_left = static_cast<long>(seconds >= 0 ? seconds / 86400 : (seconds / 86400) - 1);
    cert.expiry_known = true;
    return true;
}

void read_certificate(const CurlLibrary& curl, CURL* h, CertificateInfo& cert) {
    curl_certinfo* info = nullptr;
    if (curl.easy_getinfo(h, CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr || info->num_of_certs < 1) {
        return;
    }
    cert.present = true;
    // The first certificate is the server's own.
    for (const curl_slist* field = info->certinfo[0]; field != nullptr; field = field->next) {
        const char* f = field->data;
        if (std::strncmp(f, "Subject:", 8) == 0) {
            cert.subject = display_safe(after_colon(f, 8));
        } else if (std::strncmp(f, "Issuer:", 7) == 0) {
            cert.issuer = display_safe(after_colon(f, 7));
        } else if (std::strncmp(f, "Expire date:", 12) == 0) {
            parse_expiry(after_colon(f, 12), cert);
        } else if (std::strncmp(f, "Cert:", 5) == 0) {
            cert.pem = after_colon(f, 5);
        }
    }
}

// A TLS handshake and nothing more (CONNECT_ONLY), with the transport's
// settings except those overridden here.
Handshake handshake(const CurlLibrary& curl, const std::string& url, const TransportSettings& s, bool verify,
                    const std::string& pin) {
    Handshake result;
    std::unique_ptr<CURL, void (*)(CURL*)> handle(curl.easy_init(), curl.easy_cleanup);
    if (!handle) {
        result.rc = CURLE_OUT_OF_MEMORY;
        result.error = "libcurl could not create a handle";
        return result;
    }
    CURL* h = handle.get();
    char error_text[CURL_ERROR_SIZE] = {0};
    CurlOptions options(curl, h);
    options.set(CURLOPT_URL, url.c_str());
    options.set(CURLOPT_PROTOCOLS_STR, "https");
    options.set(CURLOPT_CONNECT_ONLY, 1L);
    options.set(CURLOPT_NOSIGNAL, 1L);
    options.set(CURLOPT_CONNECTTIMEOUT_MS, s.connect_timeout_ms);
    set_proxy_options(options, s);
    set_tls_options(options, s, verify, pin);
    options.set(CURLOPT_CERTINFO, 1L);
    options.set(CURLOPT_ERRORBUFFER, error_text);
    if (!options.ok()) {
        result.rc = CURLE_UNKNOWN_OPTION;
        result.error = options.refusal();
        return result;
    }
    result.rc = curl.easy_perform(h);
    result.error = display_safe(
        without_credentials(error_text[0] != '\0' ? error_text : curl.easy_strerror(result.rc), s.http_proxy));
    if (result.rc == CURLE_OK) {
        curl_off_t connected = 0;
        curl_off_t tls_done = 0;
        curl.easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
        curl.easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls_done);
        result.tls_ms = static_cast<long>((tls_done - connected) / 1000);
    }
    read_certificate(curl, h, result.cert);
    return result;
}

bool is_tls_level(CURLcode rc) {
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
           rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM ||
           rc == CURLE_SSL_ISSUER_ERROR;
}

void describe_certificate(ServerProbe& p) {
    const CertificateInfo& c = p.certificate;
    if (!c.present) {
        p.cert = ProbeStep{StepState::Skipped, "no certificate received"};
        return;
    }
    std::string text = "subject " + c.subject + "; issuer " + c.issuer;
    if (!c.expiry_known) {
        p.cert = ProbeStep{StepState::Warn, text + "; expiry date not readable"};
        return;
    }
    if (c.days_left < 0) {
        p.cert = ProbeStep{StepState::Fail,
                           text + "; expired " + c.not_after + " (" + std::to_string(-c.days_left) + " days ago)"};
    } else {
        const StepState state = c.days_left < kCertWarnDays ? StepState::Warn : StepState::Ok;
        p.cert = ProbeStep{state, text + "; expires " + c.not_after + " (" + std::to_string(c.days_left) + " days)"};
    }
}

void probe_tls(const CurlLibrary& curl, ServerProbe& p, const TransportSettings& s) {
    const bool pinned = !s.pinned_pubkey.empty();
    Handshake first = handshake(curl, p.url, s, s.tls_verify, s.pinned_pubkey);
    p.certificate = first.cert;
    std::string pin_text = "matches pinned_pubkey";
    StepState pin_state = StepState::Ok;

    switch (first.rc) {
    case CURLE_OK:
        p.tls = s.tls_verify ? ProbeStep{StepState::Ok, "handshake done, certificate verified", first.tls_ms}
                             : ProbeStep{StepState::Warn, "handshake done; certificate NOT verified (tls_verify = no)",
                                         first.tls_ms};
        break;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        // libcurl checks the pin after verification, so the chain was fine.
        p.tls = s.tls_verify ? ProbeStep{StepState::Ok, "handshake done, certificate verified"}
                             : ProbeStep{StepState::Warn, "handshake done; certificate NOT verified (tls_verify = no)"};
        pin_state = StepState::Fail;
        pin_text = "does not match pinned_pubkey: the server's key changed, or the pin is wrong";
        break;
    default: {
        if (!is_tls_level(first.rc)) {
            p.tls = ProbeStep{StepState::Fail, first.error};
            p.cert = ProbeStep{StepState::Skipped, "no handshake"};
            p.pin = ProbeStep{StepState::Skipped, pinned ? "no handshake" : "not configured"};
            if (!pinned) {
                p.pin.state = StepState::NotConfigured;
            }
            return;
        }
        p.tls = ProbeStep{
            StepState::Fail,
            (first.rc == CURLE_PEER_FAILED_VERIFICATION ? "certificate verification failed: " : "handshake failed: ") +
                first.error};
        // Look again without verification, credentials never sent, to show
        // which certificate the server presents and whether the pin fits it.
        const Handshake second = handshake(curl, p.url, s, false, s.pinned_pubkey);
        if (!p.certificate.present) {
            p.certificate = second.cert;
        }
        if (second.rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
            pin_state = StepState::Fail;
            pin_text = "does not match pinned_pubkey";
        } else if (second.rc != CURLE_OK) {
            pin_state = StepState::Skipped;
            pin_text = "not checked: no handshake";
        }
        break;
    }
    }
    describe_certificate(p);
    if (!pinned) {
        p.pin = ProbeStep{StepState::NotConfigured, "not configured (pinned_pubkey)"};
    } else {
        p.pin = ProbeStep{pin_state, pin_text};
    }
    p.reachable = p.tls.state != StepState::Fail && p.pin.state != StepState::Fail;
}

}  // namespace

ServerProbe probe_server(const std::string& server_url, const TransportSettings& settings) {
    ServerProbe p;
    p.url = server_url;
    const auto where = url_authority(server_url);
    if (!where) {
        p.dns = ProbeStep{StepState::Fail, "not an https://host[:port] URL"};
        return p;
    }
    if (!settings.http_proxy.empty()) {
        // The proxy resolves and connects; only the TLS handshake is ours.
        p.dns = ProbeStep{StepState::Skipped, "done by the proxy " + printable(redact_userinfo(settings.http_proxy))};
        p.tcp = ProbeStep{StepState::Skipped, "done by the proxy"};
    } else {
        std::vector<Address> addresses;
        p.dns = resolve(*where, settings.connect_timeout_ms, addresses);
        if (p.dns.state != StepState::Ok) {
            p.tcp = ProbeStep{StepState::Skipped, "no address"};
            p.tls = ProbeStep{StepState::Skipped, "no address"};
            p.cert = ProbeStep{StepState::Skipped, "no address"};
            p.pin = ProbeStep{settings.pinned_pubkey.empty() ? StepState::NotConfigured : StepState::Skipped,
                              settings.pinned_pubkey.empty() ? "not configured (pinned_pubkey)" : "no address"};
            return p;
        }
        p.tcp = connect_tcp(addresses, where->port, settings.connect_timeout_ms);
        if (p.tcp.state != StepState::Ok) {
            p.tls = ProbeStep{StepState::Skipped, "no TCP connection"};
            p.cert = ProbeStep{StepState::Skipped, "no TCP connection"};
            p.pin = ProbeStep{settings.pinned_pubkey.empty() ? StepState::NotConfigured : StepState::Skipped,
                              settings.pinned_pubkey.empty() ? "not configured (pinned_pubkey)" : "no TCP connection"};
            return p;
        }
    }
    std::string error;
    const CurlLibrary* curl = curl_library(error);
    if (curl == nullptr) {
        p.tls = ProbeStep{StepState::Fail, printable(error)};
        p.cert = ProbeStep{StepState::Skipped, "no handshake"};
        p.pin = ProbeStep{settings.pinned_pubkey.empty() ? StepState::NotConfigured : StepState::Skipped,
                          settings.pinned_pubkey.empty() ? "not configured (pinned_pubkey)" : "no handshake"};
        return p;
    }
    probe_tls(*curl, p, settings);
    return p;
}

}  // namespace pamfac

#include "http/curl_transport.h"

#include "core/cancel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace pamfac {
namespace {

// libcurl accepts a response whose connection closed right after the status
// line ("HTTP/1.1 200 OK" and nothing else) as a complete 200. An answer is
// only trusted once its header block has ended with the empty line.
struct HeaderWatch {
    bool complete = false;
};

std::size_t watch_headers(char* data, std::size_t size, std::size_t count, void* user) {
    auto* watch = static_cast<HeaderWatch*>(user);
    const std::size_t n = size * count;
    const std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
        watch->complete = false;  // a new response (after a 1xx) starts its own block
    } else if (line == "\r\n" || line == "\n") {
        watch->complete = true;
    }
    return n;
}

struct BodySink {
    std::string* body;
    std::size_t cap;
    bool overflow = false;
};

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* sink = static_cast<BodySink*>(user);
    const std::size_t n = size * count;
    if (sink->body->size() + n > sink->cap) {
        sink->overflow = true;
        return 0;  // makes libcurl abort the transfer
    }
    sink->body->append(data, n);
    return n;
}

NetError classify(const CurlLibrary& curl, CURLcode rc, CURL* handle, bool overflow) {
    switch (rc) {
    case CURLE_OK:
        return NetError::None;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return NetError::Resolve;
    case CURLE_COULDNT_CONNECT:
        return NetError::Connect;
    case CURLE_OPERATION_TIMEDOUT: {
        // A finished TLS handshake means the request may have gone out.
        curl_off_t app_connect = 0;
        curl.easy_getinfo(handle, CURLINFO_APPCONNECT_TIME_T, &app_connect);
        return app_connect > 0 ? NetError::Timeout : NetError::ConnectTimeout;
    }
    case CURLE_SSL_CONNECT_ERROR:
        return NetError::TlsHandshake;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return NetError::TlsVerify;
    case CURLE_WRITE_ERROR:
        return overflow ? NetError::TooLarge : NetError::Other;
    case CURLE_GOT_NOTHING:
        return NetError::NoAnswer;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return NetError::Broken;
    default:
        return NetError::Other;
    }
}

// libcurl's socket callbacks: they remember why a socket could not be
// made (this process's limits, never the server's fault), and let a
// CancelToken shut a request's connection down from another thread.
struct SocketWatch {
    CancelToken* cancel = nullptr;
    int open_errno = 0;  // of the last failed socket()
};

curl_socket_t open_watched_socket(void* data, curlsocktype /*purpose*/, curl_sockaddr* address) {
    auto* watch = static_cast<SocketWatch*>(data);
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) {
        watch->open_errno = errno;
        return CURL_SOCKET_BAD;
    }
    if (watch->cancel != nullptr && !watch->cancel->track_socket(fd)) {
        ::close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

int close_watched_socket(void* data, curl_socket_t fd) {
    auto* watch = static_cast<SocketWatch*>(data);
    if (watch->cancel != nullptr) {
        watch->cancel->forget_socket(fd);
    }
    return ::close(fd);
}

// connect() errors that this host's own state or policy caused.
bool local_connect_errno(long os_errno) {
    switch (os_errno) {
    case EACCES:
    case EPERM:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOBUFS:
    case EADDRNOTAVAIL:
        return true;
    default:
        return false;
    }
}

int check_cancelled(void* token, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                    curl_off_t /*ulnow*/) {
    return static_cast<CancelToken*>(token)->cancelled() ? 1 : 0;
}

// The request's header lines, freed through the table.
class HeaderList {
public:
    explicit HeaderList(const CurlLibrary& curl) : curl_(curl) {}
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;
    ~HeaderList() {
        if (list_ != nullptr) {
            curl_.slist_free_all(list_);
        }
    }

    void add(const char* line) {
        if (curl_slist* grown = curl_.slist_append(list_, line); grown != nullptr) {
            list_ = grown;
        }
    }
    curl_slist* get() const { return list_; }

private:
    const CurlLibrary& curl_;
    curl_slist* list_ = nullptr;
};

// What one request's transfer writes into, on the caller's stack.
struct Exchange {
    Exchange(const CurlLibrary& curl, HttpResponse& response, std::size_t cap)
        : headers(curl), sink{&response.body, cap} {}
    HeaderList headers;
    HeaderWatch headers_seen;
    BodySink sink;
    char error_text[CURL_ERROR_SIZE] = {0};
};

void replace_all(std::string& text, std::string_view what, std::string_view with) {
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
        text.replace(at, what.size(), with);
    }
}

void set_request_options(CurlOptions& o, const TransportSettings& s, const HttpRequest& request, Exchange& exchange) {
    o.set(CURLOPT_URL, request.url.c_str());
    o.set(CURLOPT_PROTOCOLS_STR, "https");
    o.set(CURLOPT_NOSIGNAL, 1L);
    o.set(CURLOPT_FOLLOWLOCATION, 0L);
    o.set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    o.set(CURLOPT_CONNECTTIMEOUT_MS, s.connect_timeout_ms);
    o.set(CURLOPT_TIMEOUT_MS, request.timeout_ms);
    if (!s.user_agent.empty()) {
        o.set(CURLOPT_USERAGENT, s.user_agent.c_str());
    }
    if (request.auth == HttpAuth::Basic && s.api_key != nullptr) {
        o.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        o.set(CURLOPT_USERNAME, s.api_user.c_str());
        o.set(CURLOPT_PASSWORD, s.api_key->c_str());
    } else if (request.auth == HttpAuth::Bearer && request.bearer != nullptr) {
        o.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
        o.set(CURLOPT_XOAUTH2_BEARER, request.bearer->c_str());
    }
    exchange.headers.add("Accept: application/json");
    // Without this libcurl waits up to a second for "100 Continue" on
    // bodies over 1 KiB, such as a long password.
    exchange.headers.add("Expect:");
    if (request.body != nullptr) {
        exchange.headers.add("Content-Type: application/json");
        // POSTFIELDS points at our wiping buffer instead of copying it.
        o.set(CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body->size()));
        o.set(CURLOPT_POSTFIELDS, request.body->c_str());
    }
    o.set(CURLOPT_HTTPHEADER, exchange.headers.get());
    o.set(CURLOPT_HEADERFUNCTION, watch_headers);
    o.set(CURLOPT_HEADERDATA, &exchange.headers_seen);
    o.set(CURLOPT_WRITEFUNCTION, collect_body);
    o.set(CURLOPT_WRITEDATA, &exchange.sink);
    o.set(CURLOPT_ERRORBUFFER, exchange.error_text);
}

void set_socket_options(CurlOptions& o, SocketWatch& watch) {
    o.set(CURLOPT_OPENSOCKETFUNCTION, open_watched_socket);
    o.set(CURLOPT_OPENSOCKETDATA, &watch);
    o.set(CURLOPT_CLOSESOCKETFUNCTION, close_watched_socket);
    o.set(CURLOPT_CLOSESOCKETDATA, &watch);
    if (watch.cancel != nullptr) {
        o.set(CURLOPT_XFERINFOFUNCTION, check_cancelled);
        o.set(CURLOPT_XFERINFODATA, watch.cancel);
        o.set(CURLOPT_NOPROGRESS, 0L);
    }
}

HttpResponse local_failure(std::string detail) {
    HttpResponse response;
    response.error = NetError::Local;
    response.detail = std::move(detail);
    return response;
}

}  // namespace

void set_tls_options(CurlOptions& options, const TransportSettings& settings, bool verify,
                     const std::string& pinned_pubkey) {
    options.set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    options.set(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    options.set(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    // libcurl has both a default bundle and a default directory (Debian's:
    // /etc/ssl/certs/ca-certificates.crt and /etc/ssl/certs); setting one
    // leaves the other in force, so that any CA of the system store would
    // still be trusted. Unset whichever the config does not name.
    if (!settings.ca_file.empty() || !settings.ca_path.empty()) {
        options.set(CURLOPT_CAINFO, settings.ca_file.empty() ? nullptr : settings.ca_file.c_str());
        options.set(CURLOPT_CAPATH, settings.ca_path.empty() ? nullptr : settings.ca_path.c_str());
    }
    if (!pinned_pubkey.empty()) {
        options.set(CURLOPT_PINNEDPUBLICKEY, pinned_pubkey.c_str());
    }
}

void set_proxy_options(CurlOptions& options, const TransportSettings& settings) {
    // An empty proxy and no-proxy list keep http_proxy, https_proxy and
    // no_proxy in the environment from redirecting the traffic.
    options.set(CURLOPT_PROXY, settings.http_proxy.c_str());
    options.set(CURLOPT_NOPROXY, "");
}

std::string without_credentials(std::string text, std::string_view proxy) {
    constexpr std::string_view kHidden = "***";
    // scheme://user:password@host
    for (std::size_t from = text.find("://"); from != std::string::npos; from = text.find("://", from)) {
        from += 3;
        std::size_t end = text.find_first_of("/?#'\"` \t\r\n", from);
        end = end == std::string::npos ? text.size() : end;
        const std::size_t at = std::string_view(text).substr(from, end - from).rfind('@');
        if (at != std::string_view::npos) {
            text.replace(from, at, kHidden);
        }
    }
    // The proxy's own, however it is quoted (libcurl takes it without a
    // scheme too).
    const std::size_t scheme = proxy.find("://");
    std::string_view authority = proxy.substr(scheme == std::string_view::npos ? 0 : scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    const std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos && at > 0) {
        const std::string_view userinfo = authority.substr(0, at);
        replace_all(text, userinfo, kHidden);
        const std::size_t colon = userinfo.find(':');
        // Too short a password would hide every one of its letters instead.
        if (colon != std::string_view::npos && userinfo.size() - colon - 1 >= 4) {
            replace_all(text, userinfo.substr(colon + 1), kHidden);
        }
    }
    return text;
}

namespace {

// One easy handle for one request (CurlTransport::perform) or for a whole
// series: libcurl keeps the handle's connections open between requests.
class CurlSeries final : public Transport {
public:
    CurlSeries(const TransportSettings& settings, CancelToken* cancel) : settings_(settings) {
        sockets_.cancel = cancel;
    }
    CurlSeries(const CurlSeries&) = delete;
    CurlSeries& operator=(const CurlSeries&) = delete;
    // Closes the kept connections, through close_watched_socket while
    // sockets_ is still alive.
    ~CurlSeries() override {
        if (handle_ != nullptr) {
            curl_->easy_cleanup(handle_);
        }
    }

    HttpResponse perform(const HttpRequest& request) override;

private:
    bool ready_handle(const CurlLibrary& curl);
    void transfer(Exchange& exchange, HttpResponse& response);
    void forget_exchange();

    const TransportSettings& settings_;
    SocketWatch sockets_;  // outlives each request: kept connections close later
    const CurlLibrary* curl_ = nullptr;
    CURL* handle_ = nullptr;
};

bool CurlSeries::ready_handle(const CurlLibrary& curl) {
    curl_ = &curl;
    if (handle_ == nullptr) {
        handle_ = curl.easy_init();
    } else {
        // Forgets the previous request's options (its body above all) but
        // keeps the open connections and TLS sessions.
        curl.easy_reset(handle_);
    }
    return handle_ != nullptr;
}

// In a series the handle outlives the request (and closes its connections
// in another frame): leave it no pointer into the request's.
void CurlSeries::forget_exchange() {
    curl_->easy_setopt(handle_, CURLOPT_ERRORBUFFER, nullptr);
    curl_->easy_setopt(handle_, CURLOPT_HTTPHEADER, nullptr);
}

// The transfer, and what came of it.
void CurlSeries::transfer(Exchange& exchange, HttpResponse& response) {
    sockets_.open_errno = 0;
    const CURLcode rc = curl_->easy_perform(handle_);
    forget_exchange();
    response.error = classify(*curl_, rc, handle_, exchange.sink.overflow);
    if (rc == CURLE_COULDNT_CONNECT) {
        long connect_errno = 0;
        curl_->easy_getinfo(handle_, CURLINFO_OS_ERRNO, &connect_errno);
        if (sockets_.open_errno != 0 || local_connect_errno(connect_errno)) {
            response.error = NetError::Local;
        }
    }
    if (rc != CURLE_OK && sockets_.cancel != nullptr && sockets_.cancel->cancelled()) {
        response.error = NetError::Cancelled;
    }
    if (response.error != NetError::None) {
        response.detail = without_credentials(
            exchange.error_text[0] != '\0' ? exchange.error_text : curl_->easy_strerror(rc), settings_.http_proxy);
        if (sockets_.open_errno != 0) {
            response.detail +=
                std::string(" (this process could not open a socket: ") + std::strerror(sockets_.open_errno) + ")";
        }
        response.body.clear();
        return;
    }
    curl_->easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &response.status);
    curl_off_t retry_after = 0;
    if (curl_->easy_getinfo(handle_, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
        response.retry_after_s = static_cast<long>(std::min<curl_off_t>(retry_after, 3600));
    }
    if (!exchange.headers_seen.complete) {
        response.error = NetError::Broken;
        response.detail =
            "the connection closed inside the answer's headers (HTTP " + std::to_string(response.status) + ")";
        response.status = 0;
        response.body.clear();
    }
}

HttpResponse CurlSeries::perform(const HttpRequest& request) {
    std::string error;
    const CurlLibrary* curl = curl_library(error);
    if (curl == nullptr) {
        return local_failure(error);
    }
    if (!ready_handle(*curl)) {
        return local_failure("libcurl could not create a handle");
    }
    HttpResponse response;
    Exchange exchange(*curl, response, settings_.max_response_body);
    CurlOptions options(*curl, handle_);
    set_tls_options(options, settings_, settings_.tls_verify, settings_.pinned_pubkey);
    set_proxy_options(options, settings_);
    set_request_options(options, settings_, request, exchange);
    set_socket_options(options, sockets_);
    if (!options.ok()) {
        forget_exchange();
        return local_failure(options.refusal());
    }
    transfer(exchange, response);
    return response;
}

}  // namespace

CurlTransport::CurlTransport(TransportSettings settings) : settings_(std::move(settings)) {}

HttpResponse CurlTransport::perform(const HttpRequest& request) {
    CurlSeries once(settings_, request.cancel);
    return once.perform(request);
}

std::unique_ptr<Transport> CurlTransport::series(CancelToken* cancel) {
    return std::make_unique<CurlSeries>(settings_, cancel);
}

}  // namespace pamfac

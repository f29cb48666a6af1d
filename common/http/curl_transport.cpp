#include "http/curl_transport.h"

#include "core/cancel.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <mutex>
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

NetError classify(CURLcode rc, CURL* handle, bool overflow) {
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
        curl_easy_getinfo(handle, CURLINFO_APPCONNECT_TIME_T, &app_connect);
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

// libcurl's socket callbacks, so that CancelToken can shut a request's
// connection down from another thread.
curl_socket_t open_tracked_socket(void* token, curlsocktype /*purpose*/, curl_sockaddr* address) {
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) {
        return CURL_SOCKET_BAD;
    }
    if (!static_cast<CancelToken*>(token)->track_socket(fd)) {
        ::close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

int close_tracked_socket(void* token, curl_socket_t fd) {
    static_cast<CancelToken*>(token)->forget_socket(fd);
    return ::close(fd);
}

int check_cancelled(void* token, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                    curl_off_t /*ulnow*/) {
    return static_cast<CancelToken*>(token)->cancelled() ? 1 : 0;
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

bool ensure_curl_initialised() {
    static std::once_flag once;
    static bool initialised = false;
    std::call_once(once, [] {
        // libcurl opens the file named by SSLKEYLOGFILE at initialisation and
        // appends every TLS secret to it. Under sudo that variable comes from
        // the calling user: it would let them create files as root and
        // decrypt the traffic that carries the API key. Hide it meanwhile;
        // the host is still single-threaded at its first authentication.
        const char* keylog = std::getenv("SSLKEYLOGFILE");
        const std::string saved = keylog != nullptr ? keylog : "";
        if (keylog != nullptr) {
            ::unsetenv("SSLKEYLOGFILE");
        }
        initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        if (keylog != nullptr) {
            ::setenv("SSLKEYLOGFILE", saved.c_str(), 1);
        }
    });
    return initialised;
}

namespace {

// One easy handle for one request (CurlTransport::perform) or for a whole
// series: libcurl keeps the handle's connections open between requests.
class CurlSeries final : public Transport {
public:
    CurlSeries(const TransportSettings& settings, CancelToken* cancel) : settings_(settings), cancel_(cancel) {}
    CurlSeries(const CurlSeries&) = delete;
    CurlSeries& operator=(const CurlSeries&) = delete;
    // Closes the kept connections, through close_tracked_socket while
    // cancel_ is still alive.
    ~CurlSeries() override {
        if (handle_ != nullptr) {
            curl_easy_cleanup(handle_);
        }
    }

    HttpResponse perform(const HttpRequest& request) override;

private:
    const TransportSettings& settings_;
    CancelToken* cancel_;
    CURL* handle_ = nullptr;
};

HttpResponse CurlSeries::perform(const HttpRequest& request) {
    HttpResponse response;
    if (!ensure_curl_initialised()) {
        response.error = NetError::Other;
        response.detail = "libcurl could not be initialised";
        return response;
    }
    if (handle_ == nullptr) {
        handle_ = curl_easy_init();
    } else {
        // Forgets the previous request's options (its body above all) but
        // keeps the open connections and TLS sessions.
        curl_easy_reset(handle_);
    }
    if (handle_ == nullptr) {
        response.error = NetError::Other;
        response.detail = "libcurl could not create a handle";
        return response;
    }
    CURL* h = handle_;
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&headers](const char* line) {
        curl_slist* grown = curl_slist_append(headers.get(), line);
        if (grown != nullptr) {
            (void)headers.release();
            headers.reset(grown);
        }
    };
    add_header("Accept: application/json");
    // Without this libcurl waits up to a second for "100 Continue" on
    // bodies over 1 KiB, such as a long password.
    add_header("Expect:");
    if (request.body != nullptr) {
        add_header("Content-Type: application/json");
    }

    char error_text[CURL_ERROR_SIZE] = {0};
    BodySink sink{&response.body, settings_.max_response_body};
    const TransportSettings& s = settings_;
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    // An empty proxy and no-proxy list keep http_proxy, https_proxy and
    // no_proxy in the environment from redirecting the module's traffic.
    curl_easy_setopt(h, CURLOPT_PROXY, s.http_proxy.c_str());
    curl_easy_setopt(h, CURLOPT_NOPROXY, "");
    curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, s.tls_verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, s.tls_verify ? 2L : 0L);
    if (!s.ca_file.empty()) {
        curl_easy_setopt(h, CURLOPT_CAINFO, s.ca_file.c_str());
    }
    if (!s.ca_path.empty()) {
        curl_easy_setopt(h, CURLOPT_CAPATH, s.ca_path.c_str());
    }
    if (!s.pinned_pubkey.empty()) {
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, s.pinned_pubkey.c_str());
    }
    if (!s.user_agent.empty()) {
        curl_easy_setopt(h, CURLOPT_USERAGENT, s.user_agent.c_str());
    }
    if (request.auth == HttpAuth::Basic && s.api_key != nullptr) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        curl_easy_setopt(h, CURLOPT_USERNAME, s.api_user.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, s.api_key->c_str());
    } else if (request.auth == HttpAuth::Bearer && request.bearer != nullptr) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
        curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, request.bearer->c_str());
    }
    if (cancel_ != nullptr) {
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_tracked_socket);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, cancel_);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_tracked_socket);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, cancel_);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check_cancelled);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, cancel_);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    if (request.body != nullptr) {
        // POSTFIELDS points at our wiping buffer instead of copying it.
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body->size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body->c_str());
    }
    HeaderWatch headers_seen;
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, watch_headers);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &headers_seen);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);

    const CURLcode rc = curl_easy_perform(h);
    // In a series the handle outlives this call (and closes its connections
    // in another frame): leave it no pointer into this one.
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    response.error = classify(rc, h, sink.overflow);
    if (rc != CURLE_OK && cancel_ != nullptr && cancel_->cancelled()) {
        response.error = NetError::Cancelled;
    }
    if (response.error != NetError::None) {
        response.detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(rc);
        response.body.clear();
        return response;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    if (!headers_seen.complete) {
        response.error = NetError::Broken;
        response.detail =
            "the connection closed inside the answer's headers (HTTP " + std::to_string(response.status) + ")";
        response.status = 0;
        response.body.clear();
    }
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

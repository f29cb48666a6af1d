// HTTPS over libcurl: one easy handle per request (or per series of
// requests, which then share connections), TLS verified, bounded in time and
// size, no signals, no redirects, no proxy from the environment.
#pragma once

#include <string>
#include <string_view>

#include "core/http.h"
#include "core/secret.h"
#include "http/curl_library.h"

namespace pamfac {

inline constexpr std::size_t kMaxResponseBody = std::size_t{64} * 1024;

struct TransportSettings {
    long connect_timeout_ms = 3000;
    std::string ca_file;
    std::string ca_path;
    std::string pinned_pubkey;
    bool tls_verify = true;
    std::string http_proxy;  // empty: direct, whatever the environment says
    std::string user_agent;
    std::string api_user;
    const Secret* api_key = nullptr;  // HTTP Basic password; outlives the transport
    // FAC's auth answers are tiny; only facctl's token lists (1000 objects a
    // page) need more.
    std::size_t max_response_body = kMaxResponseBody;
};

class CurlTransport final : public Transport {
public:
    explicit CurlTransport(TransportSettings settings);
    HttpResponse perform(const HttpRequest& request) override;
    std::unique_ptr<Transport> series(CancelToken* cancel) override;

private:
    TransportSettings settings_;
};

// The options of every connection to a server, shared with facctl's
// probes. TLS: at least TLS 1.2, verification as `verify` says, the pin;
// ca_file and ca_path replace the system trust store (libcurl's built-in
// default bundle and directory) instead of adding to it.
void set_tls_options(CurlOptions& options, const TransportSettings& settings, bool verify,
                     const std::string& pinned_pubkey);
// http_proxy, or none whatever the environment says.
void set_proxy_options(CurlOptions& options, const TransportSettings& settings);

// `text` (libcurl's error text, a line about the proxy) with the user and
// password of URLs, and of `proxy` however it is quoted, replaced by "***".
std::string without_credentials(std::string text, std::string_view proxy);

}  // namespace pamfac

// The transport the API clients talk through. CurlTransport is the real one;
// tests substitute fakes to drive failover and answer mapping.
#pragma once

#include <memory>
#include <string>

#include "core/secret.h"

namespace pamfac {

class CancelToken;

// What went wrong below HTTP. The split matters for failover: only failures
// that prove the request never reached FAC allow trying the next server.
enum class NetError {
    None,
    Resolve,         // DNS lookup failed
    Connect,         // TCP connection refused or unreachable
    ConnectTimeout,  // TCP or TLS setup did not finish within connect_timeout
    TlsHandshake,    // TLS negotiation failed (not a certificate problem)
    TlsVerify,       // certificate, host name or pin check failed
    Timeout,         // connected, but the whole request took too long
    TooLarge,        // answer body over the cap
    NoAnswer,        // connection closed before any byte of an answer
    Broken,          // answer truncated or unreadable after some of it came
    Cancelled,       // abandoned through a CancelToken
    Local,           // this process failed: no socket (EMFILE, ENFILE, ENOMEM, EACCES), no memory
    Other,
};

const char* net_error_name(NetError e);

enum class HttpAuth { Basic, Bearer, None };

struct HttpRequest {
    std::string url;
    const Secret* body = nullptr;     // JSON body: POST when set, GET otherwise
    long timeout_ms = 10000;          // whole request, connection included
    HttpAuth auth = HttpAuth::Basic;  // Basic uses the transport's API user and key
    const Secret* bearer = nullptr;   // the token, with HttpAuth::Bearer
    CancelToken* cancel = nullptr;    // optional: abandons the request when cancelled
};

struct HttpResponse {
    NetError error = NetError::None;
    long status = 0;
    std::string body;
    std::string detail;      // libcurl's explanation when error != None
    long retry_after_s = 0;  // the answer's Retry-After, in seconds (0: none)
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual HttpResponse perform(const HttpRequest& request) = 0;

    // For one thread's run of requests to the same servers (FortiToken
    // Cloud's login, push and polls): the returned transport keeps its
    // connections open between requests, so the run pays for one TLS
    // handshake instead of one per request. `cancel` (optional) abandons
    // every request of the run, whatever HttpRequest::cancel says, and must
    // outlive the returned transport, which closes the connections when it
    // goes and must not outlive this one. This default keeps nothing open:
    // test doubles need no more.
    virtual std::unique_ptr<Transport> series(CancelToken* cancel);
};

}  // namespace pamfac

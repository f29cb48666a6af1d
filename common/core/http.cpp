#include "core/http.h"

namespace pamfac {
namespace {

// Transport::series for transports that cannot keep a connection: every
// request goes through the underlying transport, with the run's token.
class PassThroughSeries final : public Transport {
public:
    PassThroughSeries(Transport& transport, CancelToken* cancel) : transport_(transport), cancel_(cancel) {}

    HttpResponse perform(const HttpRequest& request) override {
        HttpRequest bound = request;
        bound.cancel = cancel_;
        return transport_.perform(bound);
    }

private:
    Transport& transport_;
    CancelToken* cancel_;
};

}  // namespace

const char* net_error_name(NetError e) {
    switch (e) {
    case NetError::None:
        return "none";
    case NetError::Resolve:
        return "DNS lookup failed";
    case NetError::Connect:
        return "connection failed";
    case NetError::ConnectTimeout:
        return "connection timed out";
    case NetError::TlsHandshake:
        return "TLS handshake failed";
    case NetError::TlsVerify:
        return "TLS certificate verification failed";
    case NetError::Timeout:
        return "request timed out";
    case NetError::TooLarge:
        return "answer larger than 64 KiB";
    case NetError::NoAnswer:
        return "connection closed before any answer";
    case NetError::Broken:
        return "answer truncated or unreadable";
    case NetError::Cancelled:
        return "abandoned";
    case NetError::Local:
        return "this process could not make the request";
    case NetError::Other:
        return "transfer failed";
    }
    return "?";
}

std::unique_ptr<Transport> Transport::series(CancelToken* cancel) {
    return std::make_unique<PassThroughSeries>(*this, cancel);
}

}  // namespace pamfac

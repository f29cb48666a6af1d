// A Transport that passes every request on and remembers what it cost, for
// the timings facctl auth prints. The push may run on its own thread
// (autopush), so the record is locked.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http.h"

namespace facctl {

struct TimedRequest {
    std::string method;
    std::string url;     // never holds a secret: FAC's URLs carry none
    std::string result;  // "HTTP 200" or the network error
    long ms = 0;
};

class TimedTransport final : public pamfac::Transport {
public:
    explicit TimedTransport(pamfac::Transport& inner) : inner_(inner) {}

    pamfac::HttpResponse perform(const pamfac::HttpRequest& request) override {
        const auto start = std::chrono::steady_clock::now();
        pamfac::HttpResponse response = inner_.perform(request);
        TimedRequest record;
        record.method = request.body != nullptr ? "POST" : "GET";
        record.url = request.url;
        record.result = response.error == pamfac::NetError::None ? "HTTP " + std::to_string(response.status)
                                                                 : pamfac::net_error_name(response.error);
        record.ms = pamfac::elapsed_ms(start);
        const std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(std::move(record));
        return response;
    }

    std::vector<TimedRequest> requests() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }

private:
    pamfac::Transport& inner_;
    mutable std::mutex mutex_;
    std::vector<TimedRequest> requests_;
};

}  // namespace facctl

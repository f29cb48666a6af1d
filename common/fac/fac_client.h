// The FortiAuthenticator client: builds /auth/, /realmauth/ and /pushauth/
// requests, walks the server list with failover, and classifies answers.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/backend.h"
#include "core/http.h"
#include "core/logger.h"
#include "fac/fac_answer.h"
#include "state/server_health.h"

namespace pamfac {

struct FacSettings {
    std::vector<std::string> servers;  // https://host[:port][/prefix], no trailing slash
    std::string realm;
    long timeout_ms = 10000;
    long push_timeout_ms = 60000;
    std::string state_dir;          // health memory; unused when server_retry_after is 0
    long server_retry_after_s = 0;  // 0: no health memory
    uid_t euid = 0;
    // A setuid or setgid caller can stop and resume this process: a timeout
    // is then no evidence of an outage (core/outage.h).
    bool caller_controls_timing = false;
};

class FacClient final : public Backend {
public:
    FacClient(FacSettings settings, Transport& transport, Logger& logger);
    BackendResult check(const CodeCheck& check) override;
    BackendResult push(const PushFields& fields, CancelToken* cancel) override;

private:
    struct Sent {
        BackendResult result;
        long status = 0;         // the last HTTP status, 0 without one
        std::string server_url;  // the server that gave it
    };
    Sent send(Endpoint endpoint, const Secret& body, long timeout_ms, CancelToken* cancel);
    bool build_push_body(const PushFields& f, bool with_context, Secret& body) const;
    // After a 401 on /pushauth/: the user's "no", unless FAC rejects the
    // module's API credentials too.
    BackendResult verify_push_rejection(const Sent& sent);

    FacSettings settings_;
    Transport& transport_;
    Logger& logger_;
    ServerHealth health_;
};

// "fac1.example.com" from "https://fac1.example.com:8443/prefix".
std::string server_host(const std::string& server_url);

}  // namespace pamfac

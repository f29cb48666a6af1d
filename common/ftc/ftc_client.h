// The FortiToken Cloud client (pam_fac.conf(5), FortiToken Cloud): a bearer token from
// /api/v1/login (cached in state_dir, renewed once on a 401), codes through
// POST /api/v1/auth, and pushes through POST /api/v1/auth followed by
// polling GET /api/v1/auth/<authid> every poll_interval.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/http.h"
#include "core/logger.h"
#include "ftc/ftc_token_cache.h"

namespace pamfac {

struct FtcSettings {
    std::vector<std::string> servers;  // https://host[:port], no trailing slash
    std::string client_id;
    const Secret* client_secret = nullptr;  // outlives the client
    std::string realm;
    std::string vdom;
    std::string sn;
    long timeout_ms = 10000;
    long push_timeout_ms = 60000;
    long poll_interval_ms = 1000;
    std::string state_dir;
    uid_t euid = 0;
    bool caller_controls_timing = false;  // as in FacSettings
};

class FtcClient final : public Backend {
public:
    FtcClient(FtcSettings settings, Transport& transport, Logger& logger);
    BackendResult check(const CodeCheck& check) override;
    BackendResult push(const PushFields& fields, CancelToken* cancel) override;

private:
    using Clock = std::chrono::steady_clock;
    struct Answer {
        HttpResponse response;
        std::string server;           // host that answered (or was last tried)
        std::string url;              // base URL of that server
        bool others_untried = false;  // servers after it were not tried
    };
    struct Request {
        std::string path;
        const Secret* body;  // POST when set
        long timeout_ms;
        const std::string* only_server;  // null: every server, with FAC's failover rules
        bool resend_after_401;           // renew the token and send again; never for a code
        bool carries_push = false;       // FAC's push failover rules: a push is never sent twice
    };

    // The bearer token: cached, or from /login; a value result is a
    // failure. `refused`: the token FTC just refused with a 401, to be
    // renewed unless another thread has done so already.
    std::optional<BackendResult> ensure_token(Transport& via, const Secret* refused);
    Secret current_token();
    // One API call with the bearer token.
    std::optional<BackendResult> call(Transport& via, const Request& what, Answer& answer);
    BackendResult read_code_answer(const Answer& a);
    static BackendResult no_outage_unless_all_tried(BackendResult result, const Answer& a);
    // Sends the push; fills `authid` when FTC took it.
    std::optional<BackendResult> start_push(Transport& via, const PushFields& fields, std::string& authid, Answer& a);
    BackendResult poll_push(Transport& via, CancelToken& token, const std::string& authid, const Answer& a,
                            Clock::time_point sent_at, Clock::time_point deadline);
    static BackendResult lost_push(BackendResult result);
    void add_scope(class JsonObjectBuilder& json) const;

    FtcSettings settings_;
    Transport& transport_;
    Logger& logger_;
    FtcTokenCache cache_;
    // With autopush, push() runs on its own thread while check() may run on
    // the caller's: the token is shared, and one /login serves both.
    std::mutex token_mutex_;
    Secret token_;
};

}  // namespace pamfac

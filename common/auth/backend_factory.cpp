#include "auth/backend_factory.h"

#include "fac/fac_client.h"
#include "ftc/ftc_client.h"

namespace pamfac {

TransportSettings make_transport_settings(const Config& c) {
    TransportSettings t;
    t.connect_timeout_ms = c.connect_timeout_ms;
    t.ca_file = c.ca_file;
    t.ca_path = c.ca_path;
    t.pinned_pubkey = c.pinned_pubkey;
    t.tls_verify = c.tls_verify;
    t.http_proxy = c.http_proxy;
    t.user_agent = c.user_agent;
    if (c.backend == BackendKind::Fac) {
        t.api_user = c.api_user;
        t.api_key = &c.api_key;
    }
    return t;
}

std::unique_ptr<Backend> make_backend(const Config& c, Transport& transport, Logger& logger, uid_t euid,
                                      bool caller_controls_timing) {
    if (c.backend == BackendKind::Ftc) {
        FtcSettings s;
        s.servers = c.servers;
        s.client_id = c.ftc_client_id;
        s.client_secret = &c.ftc_client_secret;
        s.realm = c.realm;
        s.vdom = c.vdom;
        s.sn = c.ftc_sn;
        s.timeout_ms = c.timeout_ms;
        s.push_timeout_ms = c.push_timeout_ms;
        s.poll_interval_ms = c.poll_interval_ms;
        s.state_dir = c.state_dir;
        s.euid = euid;
        s.caller_controls_timing = caller_controls_timing;
        return std::make_unique<FtcClient>(std::move(s), transport, logger);
    }
    FacSettings s{c.servers,    c.realm,
                  c.timeout_ms, c.push_timeout_ms,
                  c.state_dir,  c.server_retry_after_s,
                  euid,         caller_controls_timing};
    return std::make_unique<FacClient>(std::move(s), transport, logger);
}

}  // namespace pamfac

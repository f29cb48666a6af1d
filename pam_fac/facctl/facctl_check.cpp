// facctl check: the config, then every server, step by step, so that an
// administrator sees which of DNS, TCP, TLS, certificate, pin or API
// credentials stands between the module and FAC.
#include <chrono>
#include <cstdio>
#include <string>

#include "auth/backend_factory.h"
#include "config/config.h"
#include "core/text.h"
#include "facctl/fac_tokens.h"
#include "facctl/facctl_args.h"
#include "facctl/facctl_commands.h"
#include "facctl/facctl_common.h"
#include "facctl/server_probe.h"
#include "facctl/text_table.h"
#include "http/curl_transport.h"
#include "http/json_body.h"

namespace facctl {
namespace {

constexpr const char* kHelp = R"(Usage: facctl check [--conf PATH]

Checks the config file as the module reads it (syntax, values, owner and
mode), then, for each server in the order the module tries them:

  dns    the addresses the host name resolves to, and how long it took
  tcp    a TCP connection to the server's port
  tls    the TLS handshake, and whether the certificate verifies against
         ca_file / ca_path (or the system store)
  cert   the certificate's subject, issuer and days until it expires
  pin    whether it matches pinned_pubkey, when that is set
  api    whether FAC accepts api_user and its key: a cheap authenticated
         read, GET /api/v1/fortitokens/?limit=1
  rtt    how long that API request took: connection, TLS and answer

The dns, tcp, tls, cert and pin steps send no credentials and no request.

  --conf PATH   config file (default /etc/security/pam_fac.conf)
  -h, --help    show this help

Exit status: 0 when at least one server is fully usable; 1 when none is
(the reason is the last line on stderr); 2 usage or config error.
)";

const char* state_word(pamfac::StepState s) {
    switch (s) {
    case pamfac::StepState::Ok:
        return "ok";
    case pamfac::StepState::Warn:
        return "WARN";
    case pamfac::StepState::Fail:
        return "FAIL";
    case pamfac::StepState::Skipped:
        return "skip";
    case pamfac::StepState::NotConfigured:
        return "-";
    }
    return "?";
}

std::string with_ms(const pamfac::ProbeStep& step) {
    if (step.ms < 0 || step.detail.find(" ms)") != std::string::npos) {
        return step.detail;
    }
    return step.detail + " (" + std::to_string(step.ms) + " ms)";
}

struct ServerReport {
    pamfac::ServerProbe probe;
    pamfac::ProbeStep api;
    pamfac::ProbeStep rtt;
    bool usable = false;
    std::string reason;  // why not usable
};

// FortiToken Cloud: whether POST /api/v1/login accepts the client id and
// secret. The token it returns is dropped, not cached.
void check_ftc_login(const pamfac::Config& config, pamfac::Transport& transport, const std::string& server,
                     ServerReport& report) {
    pamfac::Secret body;
    pamfac::JsonObjectBuilder json(body);
    json.add("client_id", config.ftc_client_id);
    json.add("client_secret", config.ftc_client_secret.view());
    if (!json.finish()) {
        report.api = {pamfac::StepState::Fail, "ftc_client_id or ftc_client_secret is not valid UTF-8"};
        report.reason = report.api.detail;
        return;
    }
    pamfac::HttpRequest request;
    request.url = server + "/api/v1/login";
    request.body = &body;
    request.timeout_ms = config.timeout_ms;
    request.auth = pamfac::HttpAuth::None;
    const auto start = std::chrono::steady_clock::now();
    pamfac::HttpResponse response = transport.perform(request);
    pamfac::wipe_memory(response.body.data(), response.body.size());  // it holds a bearer token
    const long ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    if (response.error != pamfac::NetError::None) {
        report.rtt = {pamfac::StepState::Skipped, "no answer"};
        report.api = {pamfac::StepState::Fail,
                      std::string(pamfac::net_error_name(response.error)) + ": " + pamfac::printable(response.detail)};
    } else if (response.status == 200 || response.status == 201) {
        report.rtt = {pamfac::StepState::Ok, "one API request: connection, TLS and answer", ms};
        report.api = {pamfac::StepState::Ok, pamfac::printable(config.ftc_client_id) +
                                                 " accepted (POST /api/v1/login: HTTP " +
                                                 std::to_string(response.status) + ")"};
        report.usable = true;
        return;
    } else {
        report.rtt = {pamfac::StepState::Ok, "one API request: connection, TLS and answer", ms};
        report.api = {pamfac::StepState::Fail,
                      response.status == 401 ? "FortiToken Cloud rejected ftc_client_id/ftc_client_secret (HTTP 401)"
                                             : "POST /api/v1/login: HTTP " + std::to_string(response.status)};
    }
    report.reason = report.api.detail;
}

void check_api(const pamfac::Config& config, pamfac::Transport& transport, const std::string& server,
               ServerReport& report) {
    if (config.backend == pamfac::BackendKind::Ftc) {
        check_ftc_login(config, transport, server, report);
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    const std::string url = server + pamfac::kTokensPath + "?limit=1";
    const pamfac::TokensPage page = pamfac::fetch_tokens_page(transport, url, config.timeout_ms);
    const long ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    if (page.status != 0) {
        report.rtt = {pamfac::StepState::Ok, "one API request: connection, TLS and answer", ms};
    } else {
        report.rtt = {pamfac::StepState::Skipped, "no answer"};
    }
    if (page.problem == pamfac::TokensProblem::None) {
        report.api = {pamfac::StepState::Ok, pamfac::printable(config.api_user) + " accepted (GET " +
                                                 pamfac::kTokensPath + "?limit=1: HTTP 200)"};
        report.usable = true;
    } else {
        report.api = {pamfac::StepState::Fail, page.message};
        report.reason = page.message;
    }
}

ServerReport check_server(const pamfac::Config& config, const pamfac::TransportSettings& settings,
                          pamfac::Transport& transport, const std::string& server) {
    ServerReport report;
    report.probe = pamfac::probe_server(server, settings);
    const pamfac::ServerProbe& p = report.probe;
    const std::pair<const char*, const pamfac::ProbeStep*> steps[] = {
        {"dns", &p.dns}, {"tcp", &p.tcp}, {"tls", &p.tls}, {"cert", &p.cert}, {"pin", &p.pin}};
    for (const auto& [name, step] : steps) {
        if (step->state == pamfac::StepState::Fail && report.reason.empty() && std::string(name) != "cert") {
            report.reason = std::string(name) + ": " + step->detail;
        }
    }
    if (!p.reachable) {
        report.api = {pamfac::StepState::Skipped, "not tried: " + report.reason};
        report.rtt = {pamfac::StepState::Skipped, "not measured"};
        if (report.reason.empty()) {
            report.reason = "not reachable";
        }
        return report;
    }
    check_api(config, transport, server, report);
    return report;
}

void print_report(const ServerReport& r, std::size_t index, std::size_t count) {
    std::printf("\nserver %zu of %zu: %s\n", index, count, one_line(r.probe.url).c_str());
    TextTable table({"CHECK", "RESULT", "DETAIL"});
    const pamfac::ServerProbe& p = r.probe;
    const std::pair<const char*, const pamfac::ProbeStep*> rows[] = {
        {"dns", &p.dns}, {"tcp", &p.tcp}, {"tls", &p.tls}, {"cert", &p.cert},
        {"pin", &p.pin}, {"api", &r.api}, {"rtt", &r.rtt}};
    for (const auto& [name, step] : rows) {
        table.add({name, state_word(step->state), one_line(with_ms(*step))});
    }
    table.print(stdout, "  ");
    if (r.usable) {
        std::printf("  => usable\n");
    } else {
        std::printf("  => NOT usable: %s\n", one_line(r.reason).c_str());
    }
}

std::string config_summary(const pamfac::Config& c) {
    std::string s = c.backend == pamfac::BackendKind::Ftc ? "backend ftc" : "api_user " + c.api_user;
    s += ", " + std::to_string(c.servers.size()) + (c.servers.size() == 1 ? " server" : " servers");
    s += ", second_factor " + std::string(pamfac::second_factor_name(c.second_factor));
    s += c.password ? ", password checked by FAC" : "";
    s += c.tls_verify ? "" : ", tls_verify = no (certificates NOT checked)";
    return s;
}

}  // namespace

int run_check(int argc, char** argv) {
    ParsedArgs args;
    if (auto error = parse_args(argc, argv, {{"--conf", true}}, args)) {
        return fail("check", *error + " (see facctl check --help)", kExitUsage);
    }
    if (args.help) {
        out(kHelp);
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    if (!args.positionals.empty()) {
        return fail("check", std::string("unexpected argument '") + args.positionals[0] + "'", kExitUsage);
    }
    pamfac::Config config;
    if (auto error = load_facctl_config(args.value("--conf"), config)) {
        return fail("check", *error, kExitUsage);
    }
    std::printf("config %s: ok (%s)\n", one_line(config.path).c_str(), one_line(config_summary(config)).c_str());

    const pamfac::TransportSettings settings = pamfac::make_transport_settings(config);
    pamfac::CurlTransport transport(settings);
    std::size_t usable = 0;
    std::string reasons;
    for (std::size_t i = 0; i < config.servers.size(); ++i) {
        const ServerReport report = check_server(config, settings, transport, config.servers[i]);
        print_report(report, i + 1, config.servers.size());
        if (report.usable) {
            ++usable;
        } else {
            reasons += (reasons.empty() ? "" : "; ") + config.servers[i] + ": " + report.reason;
        }
    }
    std::printf("\n%zu of %zu %s usable\n", usable, config.servers.size(),
                config.servers.size() == 1 ? "server" : "servers");
    if (!flush_stdout()) {
        return kExitFailed;
    }
    if (usable == 0) {
        return fail("check", "no server is usable (" + reasons + ")", kExitFailed);
    }
    return kExitOk;
}

}  // namespace facctl

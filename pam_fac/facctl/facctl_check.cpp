// facctl check: the config, then every server, step by step, so that an
// administrator sees which of DNS, TCP, TLS, certificate, pin or API
// credentials stands between the module and FAC.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "auth/backend_factory.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/text.h"
#include "facctl/fac_tokens.h"
#include "facctl/facctl_args.h"
#include "facctl/facctl_commands.h"
#include "facctl/facctl_common.h"
#include "facctl/pam_service.h"
#include "facctl/server_probe.h"
#include "facctl/text_table.h"
#include "http/curl_transport.h"
#include "http/json_body.h"

namespace facctl {
namespace {

constexpr const char* kHelp = R"(Usage: facctl check [--conf PATH | --service NAME [--pam-dir DIR]]

Checks the config file as the module reads it (syntax, values, owner and
mode), then, for each server in the order the module tries them:

  dns    the addresses the host name resolves to, and how long it took
  tcp    a TCP connection to the server's port
  tls    the TLS handshake, and whether the certificate verifies against
         ca_file / ca_path (or the system store)
  cert   the certificate's subject, issuer and days until it expires
  pin    whether it matches pinned_pubkey, when that is set (if not, the
         server's own pin is shown)
  api    whether FAC accepts api_user and its key: a cheap authenticated
         read, GET /api/v1/fortitokens/?limit=1
  rtt    how long that API request took: connection, TLS and answer

The dns, tcp, tls, cert and pin steps send no credentials and no request.

  --conf PATH      config file (default /etc/security/pam_fac.conf)
  --service NAME   check the settings in force for the PAM service NAME
                   instead: every pam_fac.so line of /etc/pam.d/NAME
                   (@include, include and substack followed), its conf=
                   and key=value arguments applied as the module applies
                   them; a bad or conflicting argument is named. With
                   --conf, lines without conf= read PATH instead of the
                   default file (to try a new file before installing it)
  --pam-dir DIR    read the PAM services from DIR (default /etc/pam.d)
  -h, --help       show this help

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
    const long ms = pamfac::elapsed_ms(start);
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
    const long ms = pamfac::elapsed_ms(start);
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

// The certificate's public-key pin in pinned_pubkey's form, or "" when it
// cannot be read.
std::string pin_of(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    if (!bio) {
        return "";
    }
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                     X509_free);
    if (!cert) {
        return "";
    }
    unsigned char* der = nullptr;
    const int der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
    if (der_len <= 0) {
        return "";
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    const int hashed = EVP_Digest(der, static_cast<std::size_t>(der_len), digest, &digest_len, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (hashed != 1) {
        return "";
    }
    unsigned char base64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int base64_len = EVP_EncodeBlock(base64, digest, static_cast<int>(digest_len));
    return "sha256//" + std::string(reinterpret_cast<const char*>(base64), static_cast<std::size_t>(base64_len));
}

// ca_file and ca_path replace the system store; one that is missing makes
// every handshake fail, which libcurl reports as a TLS problem.
std::optional<std::string> trust_store_problem(const pamfac::Config& c) {
    const std::pair<const char*, const std::string*> keys[] = {{"ca_file", &c.ca_file}, {"ca_path", &c.ca_path}};
    for (const auto& [key, path] : keys) {
        if (path->empty()) {
            continue;
        }
        const bool want_dir = std::strcmp(key, "ca_path") == 0;
        struct stat st {};
        if (::stat(path->c_str(), &st) != 0) {
            const int error = errno;
            return std::string(key) + " " + *path + ": " +
                   (error == ENOENT ? (want_dir ? "directory does not exist" : "file does not exist")
                                    : std::strerror(error));
        }
        if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
            return std::string(key) + " " + *path + ": not a " + (want_dir ? "directory" : "regular file");
        }
        if (::access(path->c_str(), R_OK) != 0) {
            return std::string(key) + " " + *path + ": cannot be read (" + std::strerror(errno) + ")";
        }
    }
    return std::nullopt;
}

void print_report(const ServerReport& r, std::size_t index, std::size_t count) {
    std::printf("\nserver %zu of %zu: %s\n", index, count, one_line(r.probe.url).c_str());
    TextTable table({"CHECK", "RESULT", "DETAIL"});
    const pamfac::ServerProbe& p = r.probe;
    const std::pair<const char*, const pamfac::ProbeStep*> rows[] = {
        {"dns", &p.dns}, {"tcp", &p.tcp}, {"tls", &p.tls}, {"cert", &p.cert},
        {"pin", &p.pin}, {"api", &r.api}, {"rtt", &r.rtt}};
    for (const auto& [name, step] : rows) {
        std::string state = state_word(step->state);
        std::string detail = with_ms(*step);
        if (step == &p.cert && p.tls.state == pamfac::StepState::Fail && step->state != pamfac::StepState::Fail) {
            state = "info";  // what the server presented; the tls row says why it is not trusted
        }
        if (step == &p.pin && step->state == pamfac::StepState::Fail) {
            const std::string actual = pin_of(p.certificate.pem);
            if (!actual.empty()) {
                detail += "; the server's key: " + actual;
            }
        }
        table.add({name, state, one_line(detail)});
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

// The servers of one config, each checked and reported; the number usable.
std::size_t check_servers(const pamfac::Config& config, std::string& reasons) {
    if (auto problem = trust_store_problem(config)) {
        std::printf("%s\n", one_line(*problem).c_str());
        reasons = *problem;
        return 0;
    }
    const pamfac::TransportSettings settings = pamfac::make_transport_settings(config);
    pamfac::CurlTransport transport(settings);
    std::size_t usable = 0;
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
    return usable;
}

// What the servers are asked with: configs equal in this are checked once.
std::string server_identity(const pamfac::Config& c) {
    std::string s = c.backend == pamfac::BackendKind::Ftc ? "ftc " + c.ftc_client_id : "fac " + c.api_user;
    for (const std::string& server : c.servers) {
        s += " " + server;
    }
    return s + "|" + c.ca_file + "|" + c.ca_path + "|" + c.pinned_pubkey + "|" + c.http_proxy + "|" +
           (c.tls_verify ? "v" : "-");
}

// Settings that are valid but do something else than the line suggests.
std::vector<std::string> notes_for(const PamModuleLine& line, const pamfac::Config& c, const std::string& service) {
    std::vector<std::string> notes;
    if (line.type != "auth") {
        notes.push_back("pam_fac only authenticates: this " + line.type + " line returns PAM_IGNORE");
    }
    if (c.autopush && c.second_factor != pamfac::SecondFactor::CodeOrPush) {
        notes.push_back(std::string("autopush = yes has nothing to do here (second_factor = ") +
                        pamfac::second_factor_name(c.second_factor) + "); that is no error");
    }
    if (service == "sudo" && c.second_factor == pamfac::SecondFactor::Push) {
        notes.push_back(
            "sudo passes PAM_SILENT (1.9.13 always, later unless sudoers pam_silent is off): with "
            "second_factor = push the user sees nothing while the push waits; second_factor = code_or_push "
            "with autopush = yes shows it in the prompt");
    }
    return notes;
}

int check_service(const ParsedArgs& args) {
    const char* dir_option = args.value("--pam-dir");
    const std::string pam_dir = dir_option != nullptr ? dir_option : "/etc/pam.d";
    const std::string service = args.value("--service");
    const char* default_conf = args.value("--conf");
    if (default_conf != nullptr && default_conf[0] != '/') {
        return fail("check", "--conf needs an absolute path with --service", kExitUsage);
    }
    PamServiceStack stack;
    if (auto error = read_pam_service(pam_dir, service, stack)) {
        return fail("check", *error, kExitUsage);
    }
    std::string read = stack.files.front();
    for (std::size_t i = 1; i < stack.files.size(); ++i) {
        read += (i == 1 ? " (with " : ", ") + stack.files[i];
    }
    std::printf("service %s: %s%s\n", one_line(service).c_str(), one_line(read).c_str(),
                stack.files.size() > 1 ? ")" : "");
    if (stack.fac_lines.empty()) {
        return fail("check", "no pam_fac.so line in " + read + (stack.files.size() > 1 ? ")" : ""), kExitFailed);
    }
    std::vector<pamfac::Config> configs;
    for (const PamModuleLine& line : stack.fac_lines) {
        std::printf("\n%s: %s\n", one_line(line.where).c_str(), one_line(line.text).c_str());
        std::vector<std::string> module_args = line.args;
        const bool names_conf = std::any_of(module_args.begin(), module_args.end(),
                                            [](const std::string& a) { return a.rfind("conf=", 0) == 0; });
        if (default_conf && !names_conf) {
            module_args.insert(module_args.begin(), std::string("conf=") + default_conf);
        }
        pamfac::Config config;
        if (auto error = pamfac::load_config(module_args, ::geteuid(), config)) {
            std::printf("  config: FAIL\n");
            if (!flush_stdout()) {
                return kExitFailed;
            }
            return fail("check", line.where + ": " + error->message, kExitUsage);
        }
        std::printf("  config %s: ok (%s)\n", one_line(config.path).c_str(), one_line(config_summary(config)).c_str());
        for (const std::string& note : notes_for(line, config, service)) {
            std::printf("  note: %s\n", one_line(note).c_str());
        }
        configs.push_back(std::move(config));
    }
    std::set<std::string> checked;
    std::size_t usable_configs = 0;
    std::string reasons;
    for (std::size_t i = 0; i < configs.size(); ++i) {
        if (!checked.insert(server_identity(configs[i])).second) {
            continue;
        }
        std::printf("\nservers of %s:\n", one_line(stack.fac_lines[i].where).c_str());
        std::string why;
        if (check_servers(configs[i], why) > 0) {
            ++usable_configs;
        } else {
            reasons += (reasons.empty() ? "" : "; ") + stack.fac_lines[i].where + ": " + why;
        }
    }
    if (!flush_stdout()) {
        return kExitFailed;
    }
    if (!reasons.empty()) {
        return fail("check", "no server is usable (" + reasons + ")", kExitFailed);
    }
    return kExitOk;
}

}  // namespace

int run_check(int argc, char** argv) {
    ParsedArgs args;
    if (auto error = parse_args(argc, argv, {{"--conf", true}, {"--service", true}, {"--pam-dir", true}}, args)) {
        return fail("check", *error + " (see facctl check --help)", kExitUsage);
    }
    if (args.help) {
        out(kHelp);
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    if (!args.positionals.empty()) {
        return fail("check", std::string("unexpected argument '") + args.positionals[0] + "'", kExitUsage);
    }
    if (args.has("--service")) {
        return check_service(args);
    }
    if (args.has("--pam-dir")) {
        return fail("check", "--pam-dir goes with --service", kExitUsage);
    }
    pamfac::Config config;
    if (auto error = load_facctl_config(args.value("--conf"), config)) {
        return fail("check", *error, kExitUsage);
    }
    std::printf("config %s: ok (%s)\n", one_line(config.path).c_str(), one_line(config_summary(config)).c_str());
    std::string reasons;
    const std::size_t usable = check_servers(config, reasons);
    if (!flush_stdout()) {
        return kExitFailed;
    }
    if (usable == 0) {
        return fail("check", "no server is usable (" + reasons + ")", kExitFailed);
    }
    return kExitOk;
}

}  // namespace facctl

// facctl auth: one authentication as the module runs it (policy, grace
// period, flow), with the terminal as the conversation.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "auth/authenticator.h"
#include "auth/backend_factory.h"
#include "auth/policy.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/login.h"
#include "core/outage.h"
#include "core/outcome.h"
#include "core/secret.h"
#include "core/text.h"
#include "core/validate.h"
#include "facctl/facctl_args.h"
#include "facctl/facctl_commands.h"
#include "facctl/facctl_common.h"
#include "facctl/terminal_conversation.h"
#include "facctl/timed_transport.h"
#include "http/curl_transport.h"

namespace facctl {
namespace {

constexpr const char* kHelp =
    R"(Usage: facctl auth USER [--code CODE | --push] [--password-prompt] [--conf PATH] [--rhost ADDR]

Runs one authentication of USER through the same flow as pam_fac.so, with
this terminal as the PAM conversation, and prints the outcome and timings.

  --code CODE        answer the first FortiToken code prompt with CODE, and
                     allow that one try (with second_factor = push, ask for
                     a code instead). Other users can see CODE in the process
                     list while facctl starts: prefer typing it at the prompt.
  --push             answer the code prompt with Enter, which sends a push
                     (with second_factor = code, send a push instead)
  --password-prompt  also ask for the password and have FAC check it, as
                     with password = yes
  --conf PATH        config file (default /etc/security/pam_fac.conf)
  --rhost ADDR       the remote host to report, as sshd sets PAM_RHOST
  -h, --help         show this help

Prompts go to stderr. Answers are read from stdin, with echo off when it is
a terminal. Output: the line the module logs, the PAM result, and the time
each request to FAC took.

Exit status: 0 success; 1 denied (also unknown user, or FAC leaving the
decision to other modules); 2 usage or config error, or no answer given;
3 FAC unavailable (unreachable, TLS failure, API credentials refused).
)";

int exit_status(const pamfac::Outcome& outcome) {
    if (outcome.degraded) {
        return kExitUnavailable;  // failmode = safe stepped aside because FAC was unreachable
    }
    switch (outcome.status) {
    case pamfac::Status::Success:
        return kExitOk;
    case pamfac::Status::AuthErr:
    case pamfac::Status::UserUnknown:
    case pamfac::Status::Ignore:
        return kExitFailed;
    case pamfac::Status::AuthinfoUnavail:
        return kExitUnavailable;
    case pamfac::Status::ServiceErr:
    case pamfac::Status::ConvErr:
        return kExitUsage;
    }
    return kExitFailed;
}

std::string tty_name() {
    const char* name = isatty(STDIN_FILENO) == 1 ? ttyname(STDIN_FILENO) : nullptr;
    return name != nullptr ? name : "";
}

// The command-line switches mapped onto the config, so that the flow asks
// what they answer. Returns a usage error, if any.
std::optional<std::string> apply_switches(pamfac::Config& config, bool code, bool push, bool password_prompt) {
    using pamfac::SecondFactor;
    if (password_prompt) {
        config.password = true;
    }
    if (code || push) {
        const char* option = code ? "--code" : "--push";
        if (config.otp_append) {
            return std::string(option) +
                   " cannot answer the single password-and-code prompt of otp_append = yes; leave it out";
        }
        if (config.second_factor == SecondFactor::None) {
            return std::string(option) + ": the config says second_factor = none, so no second factor is asked";
        }
    }
    if (code) {
        if (config.second_factor == SecondFactor::Push) {
            config.second_factor = SecondFactor::Code;
        }
        config.tries = 1;  // one code given, one try: a wrong code is not sent again
    }
    if (push && config.second_factor == SecondFactor::Code) {
        config.second_factor = SecondFactor::Push;
    }
    return std::nullopt;
}

void print_report(const pamfac::Outcome& outcome, const pamfac::LoginContext& login,
                  const std::vector<TimedRequest>& requests, long config_ms, long total_ms) {
    std::printf("%s\n", pamfac::summary_line(outcome, login).c_str());
    std::printf("result: %s\n", pamfac::pam_code_name(outcome.status));
    int n = 0;
    for (const TimedRequest& r : requests) {
        std::printf("request %d: %s %s -> %s (%ld ms)\n", ++n, r.method.c_str(), one_line(r.url).c_str(),
                    r.result.c_str(), r.ms);
    }
    std::printf("time: config %ld ms, authentication %ld ms, total %ld ms\n", config_ms, outcome.elapsed_ms, total_ms);
}

}  // namespace

int run_auth(int argc, char** argv) {
    const auto start = std::chrono::steady_clock::now();
    ParsedArgs args;
    if (auto error = parse_args(
            argc, argv,
            {{"--code", true}, {"--push", false}, {"--password-prompt", false}, {"--conf", true}, {"--rhost", true}},
            args)) {
        return fail("auth", *error + " (see facctl auth --help)", kExitUsage);
    }
    pamfac::Secret code;
    if (char* given = args.value("--code")) {
        code.assign(given);
        pamfac::wipe_memory(given, std::strlen(given));  // off the process list from now on
    }
    if (args.help) {
        out(kHelp);
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    if (args.positionals.empty()) {
        return fail("auth", "missing USER (see facctl auth --help)", kExitUsage);
    }
    if (args.positionals.size() > 1) {
        return fail("auth", std::string("unexpected argument '") + args.positionals[1] + "'", kExitUsage);
    }
    const bool use_code = args.has("--code");
    const bool use_push = args.has("--push");
    if (use_code && use_push) {
        return fail("auth", "--code and --push exclude each other", kExitUsage);
    }
    if (use_code && !pamfac::is_valid_code(code.view())) {
        return fail("auth", "--code must be 6 to 8 digits", kExitUsage);
    }
    const char* rhost = args.value("--rhost");
    if (rhost != nullptr && pamfac::has_control_chars(rhost)) {
        return fail("auth", "--rhost must not contain control characters", kExitUsage);
    }

    pamfac::Config config;
    if (auto error = load_facctl_config(args.value("--conf"), config)) {
        return fail("auth", *error, kExitUsage);
    }
    if (auto error = apply_switches(config, use_code, use_push, args.has("--password-prompt"))) {
        return fail("auth", *error, kExitUsage);
    }
    const auto loaded = std::chrono::steady_clock::now();

    StderrLogger logger;
    logger.set_debug(config.debug);
    pamfac::LoginContext login;
    login.user = args.positionals[0];
    login.rhost = rhost != nullptr ? rhost : "";
    login.service = "facctl";
    login.tty = tty_name();
    login.host = pamfac::local_host_name();

    pamfac::CurlTransport curl(pamfac::make_transport_settings(config));
    TimedTransport transport(curl);
    const auto backend =
        pamfac::make_backend(config, transport, logger, ::geteuid(), pamfac::process_timing_is_callers());
    TerminalConversation conversation(STDIN_FILENO, PresetAnswers{use_code ? &code : nullptr, use_push});
    pamfac::NssGroupDirectory groups;
    pamfac::Authenticator authenticator(config, login, conversation, *backend, logger, groups, ::geteuid());
    const pamfac::Outcome outcome = authenticator.run();

    print_report(outcome, login, transport.requests(), pamfac::ms_between(start, loaded), pamfac::elapsed_ms(start));
    if (!flush_stdout()) {
        return kExitFailed;
    }
    return exit_status(outcome);
}

}  // namespace facctl

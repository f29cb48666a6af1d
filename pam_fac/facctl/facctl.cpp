// facctl: pam_fac's admin command (facctl(8)). Dispatches to the
// commands; nothing escapes main but an exit status and one line of error.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "facctl/facctl_args.h"
#include "facctl/facctl_commands.h"
#include "facctl/facctl_common.h"

namespace facctl {
namespace {

constexpr const char* kUsage = R"(Usage: facctl COMMAND [OPTIONS]

pam_fac's admin command. Every command reads the module's config file
(/etc/security/pam_fac.conf, or --conf PATH) with the module's own checks.

Commands:
  check     check the config, then each server: DNS, TCP, TLS, certificate,
            pin, API credentials and round-trip time; with --service NAME,
            the settings in force for /etc/pam.d/NAME
  auth      authenticate a user through the module's flow, on this terminal
  tokens    list FortiTokens (GET /api/v1/fortitokens/, every page)
  rescue    issue, list and revoke single-use rescue codes
  version   print facctl's version

  -h, --help   show this help; "facctl COMMAND --help" shows a command's
               options
)";

constexpr const char* kVersionHelp = R"(Usage: facctl version

Prints "facctl <version>".
)";

int run_version(int argc, char** argv) {
    ParsedArgs args;
    if (auto error = parse_args(argc, argv, {}, args)) {
        return fail("version", *error, kExitUsage);
    }
    if (args.help) {
        out(kVersionHelp);
    } else if (!args.positionals.empty()) {
        return fail("version", std::string("unexpected argument '") + args.positionals[0] + "'", kExitUsage);
    } else {
        std::printf("facctl %s\n", PAMFAC_VERSION);
    }
    return flush_stdout() ? kExitOk : kExitFailed;
}

int dispatch(int argc, char** argv) {
    if (argc < 2) {
        err_line("facctl: missing command (try facctl --help)");
        return kExitUsage;
    }
    const char* command = argv[1];
    if (std::strcmp(command, "-h") == 0 || std::strcmp(command, "--help") == 0 || std::strcmp(command, "help") == 0) {
        out(kUsage);
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    if (std::strcmp(command, "version") == 0 || std::strcmp(command, "--version") == 0) {
        return run_version(argc - 2, argv + 2);
    }
    if (std::strcmp(command, "check") == 0) {
        return run_check(argc - 2, argv + 2);
    }
    if (std::strcmp(command, "auth") == 0) {
        return run_auth(argc - 2, argv + 2);
    }
    if (std::strcmp(command, "tokens") == 0) {
        return run_tokens(argc - 2, argv + 2);
    }
    if (std::strcmp(command, "rescue") == 0) {
        return run_rescue(argc - 2, argv + 2);
    }
    err_line(std::string("facctl: unknown ") + (command[0] == '-' ? "option" : "command") + " '" + one_line(command) +
             "' (try facctl --help)");
    return kExitUsage;
}

}  // namespace
}  // namespace facctl

int main(int argc, char** argv) {
    // A closed pipe (facctl tokens | head) ends the output, not the process
    // in the middle of a TLS write; flush_stdout() notices it.
    (void)signal(SIGPIPE, SIG_IGN);
    try {
        return facctl::dispatch(argc, argv);
    } catch (const std::bad_alloc&) {
        (void)std::fputs("facctl: out of memory\n", stderr);
    } catch (const std::exception& e) {
        facctl::err_line("facctl: internal error: " + facctl::one_line(e.what()));
    } catch (...) {
        facctl::err_line("facctl: internal error");
    }
    return facctl::kExitFailed;
}

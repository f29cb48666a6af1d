// facctl rescue: single-use rescue codes for when the phone is lost or
// FortiAuthenticator is down (rescue_codes, rescue_dir in pam_fac.conf(5)).
// Only their salted yescrypt hashes are kept; the codes are printed once.
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "auth/rescue_codes.h"
#include "config/config.h"
#include "core/validate.h"
#include "facctl/facctl_args.h"
#include "facctl/facctl_commands.h"
#include "facctl/facctl_common.h"
#include "state/rescue_store.h"

namespace facctl {
namespace {

constexpr const char* kHelp = R"(Usage: facctl rescue issue USER [--count N] [--conf PATH]
       facctl rescue list [USER] [--conf PATH]
       facctl rescue revoke USER [--conf PATH]

Single-use rescue codes, accepted at pam_fac's code prompt as rescue_codes
says (offline: only while FortiAuthenticator cannot be reached; yes: always;
no: never). USER is the account whose second factor is asked: PAM_USER, or
with fac_username = ruser the account behind su.

  issue    print N new codes (default 10), one a line and nothing else,
           replacing USER's earlier ones; only their salted hashes are kept
           in rescue_dir (default /var/lib/pam_fac/rescue)
  list     how many codes each user (or USER) has left: "USER COUNT" lines
  revoke   remove USER's codes

  --count N     codes to issue, 1 to 100 (default 10)
  --conf PATH   config file (default /etc/security/pam_fac.conf)
  -h, --help    show this help

Exit status: 0 done; 1 rescue_dir cannot be used; 2 usage or config error.
)";

constexpr std::size_t kDefaultCount = 10;
constexpr std::size_t kMaxCount = 100;

std::optional<std::size_t> parse_count(const char* text) {
    std::size_t n = 0;
    const char* end = text + std::strlen(text);
    const auto [ptr, ec] = std::from_chars(text, end, n);
    if (ec != std::errc() || ptr != end || n < 1 || n > kMaxCount) {
        return std::nullopt;
    }
    return n;
}

int issue(pamfac::RescueStore& store, const std::string& user, const char* count_text) {
    std::size_t count = kDefaultCount;
    if (count_text != nullptr) {
        const auto n = parse_count(count_text);
        if (!n) {
            return fail("rescue", "--count must be a whole number from 1 to 100", kExitUsage);
        }
        count = *n;
    }
    std::string problem;
    const auto codes = pamfac::generate_rescue_codes(count, problem);
    if (!codes) {
        return fail("rescue", problem, kExitFailed);
    }
    if (auto error = store.replace(user, *codes)) {
        return fail("rescue", *error, kExitFailed);
    }
    for (const pamfac::Secret& code : *codes) {
        out(std::string(code.view()) + "\n");
    }
    return flush_stdout() ? kExitOk : kExitFailed;
}

int list(const pamfac::RescueStore& store, const std::string* user) {
    if (user != nullptr) {
        out(*user + " " + std::to_string(store.count(*user)) + "\n");
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    std::vector<std::pair<std::string, std::size_t>> users;
    if (auto error = store.list(users)) {
        return fail("rescue", *error, kExitFailed);
    }
    for (const auto& [name, left] : users) {
        out(one_line(name) + " " + std::to_string(left) + "\n");
    }
    return flush_stdout() ? kExitOk : kExitFailed;
}

}  // namespace

int run_rescue(int argc, char** argv) {
    ParsedArgs args;
    if (auto error = parse_args(argc, argv, {{"--count", true}, {"--conf", true}}, args)) {
        return fail("rescue", *error, kExitUsage);
    }
    if (args.help) {
        out(kHelp);
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    if (args.positionals.empty()) {
        return fail("rescue", "missing action: issue, list or revoke (try facctl rescue --help)", kExitUsage);
    }
    const std::string action = args.positionals[0];
    const bool needs_user = action == "issue" || action == "revoke";
    if (action != "issue" && action != "list" && action != "revoke") {
        return fail("rescue", "unknown action '" + one_line(action) + "' (issue, list or revoke)", kExitUsage);
    }
    if (args.positionals.size() > 2 || (needs_user && args.positionals.size() != 2)) {
        return fail("rescue", needs_user ? action + " needs exactly one USER" : "list takes at most one USER",
                    kExitUsage);
    }
    if (args.has("--count") && action != "issue") {
        return fail("rescue", "--count goes with issue only", kExitUsage);
    }
    const std::string user = args.positionals.size() == 2 ? std::string(args.positionals[1]) : std::string();
    if (args.positionals.size() == 2 && !pamfac::is_valid_username(user)) {
        return fail("rescue", "invalid user name '" + one_line(user) + "'", kExitUsage);
    }
    pamfac::Config config;
    if (auto error = load_facctl_config(args.value("--conf"), config)) {
        return fail("rescue", *error, kExitUsage);
    }
    pamfac::RescueStore store(config.rescue_dir, ::geteuid());
    if (action == "issue") {
        return issue(store, user, args.value("--count"));
    }
    if (action == "list") {
        return list(store, user.empty() ? nullptr : &user);
    }
    std::size_t removed = 0;
    if (auto error = store.revoke(user, removed)) {
        return fail("rescue", *error, kExitFailed);
    }
    out("revoked " + std::to_string(removed) + " rescue code" + (removed == 1 ? "" : "s") + " of " + one_line(user) +
        "\n");
    return flush_stdout() ? kExitOk : kExitFailed;
}

}  // namespace facctl

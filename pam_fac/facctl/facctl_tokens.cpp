// facctl tokens: FortiAuthenticator's FortiTokens, every page of them, as a
// table or as one JSON array.
#include <rapidjson/filewritestream.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <string>
#include <vector>

#include "auth/backend_factory.h"
#include "config/config.h"
#include "core/text.h"
#include "facctl/fac_tokens.h"
#include "facctl/facctl_args.h"
#include "facctl/facctl_commands.h"
#include "facctl/facctl_common.h"
#include "facctl/text_table.h"
#include "http/curl_transport.h"

namespace facctl {
namespace {

constexpr const char* kHelp =
    R"(Usage: facctl tokens [--serial S] [--type ftk|ftm] [--status new|available|pending|assigned]
                     [--ignore-case] [--json] [--conf PATH]

Lists FortiAuthenticator's FortiTokens (GET /api/v1/fortitokens/), following
meta.next through every page, 1000 tokens a page.

  --serial S      only the token with serial number S
  --type T        only tokens of type ftk (hardware) or ftm (FortiToken Mobile)
  --status S      only tokens in status new, available, pending or assigned
  --ignore-case   match the filters case-insensitively (FAC's __iexact)
  --json          print one JSON array of the token objects, as FAC sent them
  --conf PATH     config file (default /etc/security/pam_fac.conf)
  -h, --help      show this help

The table shows serial, type and status, and locked, license and
last_used_at when FAC sends them (newer FAC versions do).

Exit status: 0 listed (also when no token matches); 1 FAC's answer could
not be read; 2 usage or config error; 3 FAC unreachable, or it refused the
API credentials.
)";

// Token pages are the one answer bigger than the module's 64 KiB cap:
// 1000 tokens of a few hundred bytes each.
constexpr std::size_t kMaxTokensPage = std::size_t{16} * 1024 * 1024;

const char* const kTypes[] = {"ftk", "ftm"};
const char* const kStatuses[] = {"new", "available", "pending", "assigned"};

template <std::size_t N>
std::optional<std::string> check_choice(const char* option, const char* value, const char* const (&choices)[N],
                                        bool ignore_case) {
    if (value == nullptr) {
        return std::nullopt;
    }
    const std::string given = ignore_case ? pamfac::ascii_lower(value) : std::string(value);
    std::string names;
    for (const char* c : choices) {
        if (given == c) {
            return std::nullopt;
        }
        names += (names.empty() ? "" : ", ") + std::string(c);
    }
    std::string message = std::string(option) + " must be one of " + names + ", not '" + pamfac::printable(value) + "'";
    if (!ignore_case && pamfac::ascii_lower(value) != value) {
        message += " (or add --ignore-case)";
    }
    return message;
}

std::string cell(const rapidjson::Value& v) {
    if (v.IsString()) {
        return pamfac::display_safe(std::string_view(v.GetString(), v.GetStringLength()));
    }
    if (v.IsBool()) {
        return v.GetBool() ? "yes" : "no";
    }
    if (v.IsNull()) {
        return "-";
    }
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> writer(text);
    v.Accept(writer);
    return pamfac::display_safe(std::string_view(text.GetString(), text.GetSize()));
}

void print_table(const pamfac::TokenListing& listing) {
    const char* const fixed[] = {"serial", "type", "status"};
    const char* const optional[] = {"locked", "license", "last_used_at"};
    std::vector<const char*> fields(std::begin(fixed), std::end(fixed));
    for (const char* name : optional) {
        for (const auto& token : listing.tokens.GetArray()) {
            if (token.HasMember(name)) {
                fields.push_back(name);
                break;
            }
        }
    }
    std::vector<std::string> header;
    for (const char* f : fields) {
        std::string name(f);
        for (char& c : name) {
            c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        }
        header.push_back(name);
    }
    TextTable table(header);
    for (const auto& token : listing.tokens.GetArray()) {
        std::vector<std::string> row;
        for (const char* f : fields) {
            const auto it = token.FindMember(f);
            row.push_back(it == token.MemberEnd() ? "-" : cell(it->value));
        }
        table.add(std::move(row));
    }
    if (table.rows() > 0) {
        table.print(stdout);
    }
    const std::size_t n = listing.tokens.Size();
    std::printf("%zu %s (%d %s from %s)\n", n, n == 1 ? "token" : "tokens", listing.pages,
                listing.pages == 1 ? "page" : "pages", one_line(listing.server).c_str());
}

bool print_json(const pamfac::TokenListing& listing) {
    char buffer[65536];
    rapidjson::FileWriteStream stream(stdout, buffer, sizeof buffer);
    rapidjson::Writer<rapidjson::FileWriteStream, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                      rapidjson::kWriteValidateEncodingFlag>
        writer(stream);
    const bool ok = listing.tokens.Accept(writer);
    stream.Flush();
    out("\n");
    return ok;
}

int exit_for(pamfac::TokensProblem p) {
    switch (p) {
    case pamfac::TokensProblem::Unreachable:
    case pamfac::TokensProblem::TlsFailure:
    case pamfac::TokensProblem::CredentialsRejected:
    case pamfac::TokensProblem::PermissionDenied:
        return kExitUnavailable;
    case pamfac::TokensProblem::None:
    case pamfac::TokensProblem::BadAnswer:
        break;
    }
    return kExitFailed;
}

}  // namespace

int run_tokens(int argc, char** argv) {
    ParsedArgs args;
    if (auto error = parse_args(argc, argv,
                                {{"--serial", true},
                                 {"--type", true},
                                 {"--status", true},
                                 {"--ignore-case", false},
                                 {"--json", false},
                                 {"--conf", true}},
                                args)) {
        return fail("tokens", *error + " (see facctl tokens --help)", kExitUsage);
    }
    if (args.help) {
        out(kHelp);
        return flush_stdout() ? kExitOk : kExitFailed;
    }
    if (!args.positionals.empty()) {
        return fail("tokens", std::string("unexpected argument '") + args.positionals[0] + "'", kExitUsage);
    }
    pamfac::TokenFilter filter;
    filter.ignore_case = args.has("--ignore-case");
    if (auto error = check_choice("--type", args.value("--type"), kTypes, filter.ignore_case)) {
        return fail("tokens", *error, kExitUsage);
    }
    if (auto error = check_choice("--status", args.value("--status"), kStatuses, filter.ignore_case)) {
        return fail("tokens", *error, kExitUsage);
    }
    if (const char* serial = args.value("--serial")) {
        if (*serial == '\0' || pamfac::has_control_chars(serial)) {
            return fail("tokens", "--serial needs a serial number", kExitUsage);
        }
        filter.serial = serial;
    }
    filter.type = args.has("--type") ? args.value("--type") : "";
    filter.status = args.has("--status") ? args.value("--status") : "";

    pamfac::Config config;
    if (auto error = load_facctl_config(args.value("--conf"), config)) {
        return fail("tokens", *error, kExitUsage);
    }
    if (config.backend == pamfac::BackendKind::Ftc) {
        return fail("tokens",
                    "backend = ftc: FortiToken Cloud has no /api/v1/fortitokens/; this command needs "
                    "backend = fac",
                    kExitUsage);
    }
    pamfac::TransportSettings settings = pamfac::make_transport_settings(config);
    settings.max_response_body = kMaxTokensPage;
    pamfac::CurlTransport transport(settings);
    pamfac::TokenListing listing;
    if (auto error = pamfac::list_tokens(transport, config.servers, filter, config.timeout_ms, listing)) {
        return fail("tokens", error->message, exit_for(error->problem));
    }
    if (args.has("--json")) {
        if (!print_json(listing)) {
            return fail("tokens", "a token holds text that is not valid UTF-8", kExitFailed);
        }
    } else {
        print_table(listing);
    }
    if (!flush_stdout()) {
        return kExitFailed;
    }
    if (listing.total_count >= 0 && static_cast<std::size_t>(listing.total_count) != listing.tokens.Size()) {
        err_line("facctl tokens: warning: FAC counted " + std::to_string(listing.total_count) + " tokens but " +
                 std::to_string(listing.tokens.Size()) + " were listed; the list changed while it was read");
    }
    return kExitOk;
}

}  // namespace facctl

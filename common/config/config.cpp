#include "config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <utility>

#include "core/text.h"
#include "core/validate.h"
#include "http/url.h"

namespace pamfac {
namespace {

constexpr std::size_t kMaxConfigSize = std::size_t{1024} * 1024;
constexpr std::size_t kMaxKeyFileSize = std::size_t{64} * 1024;
constexpr std::size_t kMaxMapFileSize = std::size_t{1024} * 1024;
constexpr int kMaxOfflineGrace = 366 * 86400;

// One key = value pair and where it came from, for error messages.
// Values are views into the file buffer or argv, both alive during parsing.
struct Setting {
    std::string_view value;
    std::string where;
};

// A value as an error message may repeat it: never a secret, nor a server
// list, whose own messages quote the offending URL (and never one with
// credentials); a proxy URL without its user:password@.
std::string shown_value(std::string_view key, std::string_view value) {
    if (key == "api_key" || key == "ftc_client_secret" || key == "server") {
        return "";
    }
    return " '" + printable(key == "http_proxy" ? redact_userinfo(value) : std::string(value)) + "'";
}

// Secrets never come from a stack line: /etc/pam.d is world-readable.
bool is_secret_key(std::string_view key) {
    return key == "api_key" || key == "ftc_client_secret";
}

// Every key that names a file or directory: relative paths would be resolved
// against the calling program's working directory (under sudo, the user's).
std::optional<std::string> check_path(std::string_view v) {
    if (v.empty() || v.front() != '/') {
        return std::string("needs an absolute path");
    }
    if (has_control_chars(v)) {
        return std::string("must not contain control characters");
    }
    return std::nullopt;
}

std::optional<bool> parse_bool(std::string_view v) {
    const std::string s = ascii_lower(v);
    if (s == "yes" || s == "true" || s == "on" || s == "1") {
        return true;
    }
    if (s == "no" || s == "false" || s == "off" || s == "0") {
        return false;
    }
    return std::nullopt;
}

// Seconds with optional decimals, within (0, max_seconds].
std::optional<long> parse_duration_ms(std::string_view v, double max_seconds) {
    double seconds = 0;
    const char* end = v.data() + v.size();
    auto [ptr, ec] = std::from_chars(v.data(), end, seconds, std::chars_format::fixed);
    if (ec != std::errc() || ptr != end || !std::isfinite(seconds) || seconds <= 0 || seconds > max_seconds) {
        return std::nullopt;
    }
    const long ms = std::lround(seconds * 1000.0);
    return ms < 1 ? 1 : ms;
}

std::optional<int> parse_int(std::string_view v, int min, int max) {
    int n = 0;
    const char* end = v.data() + v.size();
    auto [ptr, ec] = std::from_chars(v.data(), end, n);
    if (ec != std::errc() || ptr != end || n < min || n > max) {
        return std::nullopt;
    }
    return n;
}

std::vector<std::string_view> split_list(std::string_view v) {
    std::vector<std::string_view> items;
    std::size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && (v[i] == ',' || v[i] == ' ' || v[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < v.size() && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
            ++i;
        }
        if (i > start) {
            items.push_back(v.substr(start, i - start));
        }
    }
    return items;
}

// https://host[:port][/prefix], nothing else: no credentials in the URL, no
// query, no fragment, no whitespace, no control characters.
std::optional<std::string> check_server_url(std::string_view url) {
    const UrlProblem problem = parse_server_url(url).problem;
    if (problem == UrlProblem::Credentials) {
        // Never echoed: the part before '@' may be a password.
        return "a server URL must not contain credentials (user:password@); use api_user and api_key";
    }
    const std::string shown = "server '" + printable(url) + "'";
    switch (problem) {
    case UrlProblem::None:
        return std::nullopt;
    case UrlProblem::WrongScheme:
        return shown + " must start with https:// (plain HTTP would expose the API key)";
    case UrlProblem::BadCharacter:
        return shown + " contains a character not allowed in a server URL";
    case UrlProblem::UnterminatedIpv6:
        return shown + " has an unterminated IPv6 address";
    case UrlProblem::NoHost:
        return shown + " has no host name";
    case UrlProblem::BadPort:
        return shown + " has an invalid port";
    case UrlProblem::Credentials:
    case UrlProblem::Malformed:
    case UrlProblem::NoPort:
        break;
    }
    return shown + " is not https://host[:port][/prefix]";
}

// http_proxy: checked when the config is read, not at the first login. The
// caller shows the value without its userinfo (shown_value).
std::optional<std::string> check_proxy_url(std::string_view url) {
    switch (parse_proxy_url(url).problem) {
    case UrlProblem::None:
        return std::nullopt;
    case UrlProblem::WrongScheme:
        return std::string("must start with http://, https://, socks5:// or socks5h://");
    case UrlProblem::NoPort:
        return std::string("needs a port (scheme://host:port)");
    case UrlProblem::BadPort:
        return std::string("has an invalid port");
    case UrlProblem::NoHost:
        return std::string("has no host name");
    case UrlProblem::BadCharacter:
        return std::string("contains a character not allowed in a proxy URL");
    case UrlProblem::Credentials:
    case UrlProblem::UnterminatedIpv6:
    case UrlProblem::Malformed:
        break;
    }
    return std::string("is not scheme://[user:password@]host:port (percent-encode '/', '?' and '#' in the password)");
}

std::string strip_trailing_slashes(std::string_view url) {
    while (!url.empty() && url.back() == '/') {
        url.remove_suffix(1);
    }
    return std::string(url);
}

using Handler = std::function<std::optional<std::string>(std::string_view, Config&)>;

template <class Enum>
Handler enum_handler(Enum Config::*field, std::vector<std::pair<const char*, Enum>> choices) {
    return [field, choices = std::move(choices)](std::string_view v, Config& c) -> std::optional<std::string> {
        const std::string lower = ascii_lower(v);
        std::string names;
        for (const auto& [name, value] : choices) {
            if (lower == name) {
                c.*field = value;
                return std::nullopt;
            }
            names += names.empty() ? name : std::string(", ") + name;
        }
        return "must be one of: " + names;
    };
}

Handler bool_handler(bool Config::*field) {
    return [field](std::string_view v, Config& c) -> std::optional<std::string> {
        const auto b = parse_bool(v);
        if (!b) {
            return "must be yes or no (also true/false, on/off, 1/0)";
        }
        c.*field = *b;
        return std::nullopt;
    };
}

Handler duration_handler(long Config::*field, double max_seconds) {
    return [field, max_seconds](std::string_view v, Config& c) -> std::optional<std::string> {
        const auto ms = parse_duration_ms(v, max_seconds);
        if (!ms) {
            char buf[96];
            (void)std::snprintf(buf, sizeof buf, "must be a number of seconds greater than 0 and at most %g",
                                max_seconds);
            return std::string(buf);
        }
        c.*field = *ms;
        return std::nullopt;
    };
}

Handler string_handler(std::string Config::*field, bool allow_empty) {
    return [field, allow_empty](std::string_view v, Config& c) -> std::optional<std::string> {
        if (v.empty() && !allow_empty) {
            return std::string("must not be empty");
        }
        if (has_control_chars(v)) {
            return std::string("must not contain control characters");
        }
        // Sent in JSON or HTTP headers: anything else fails every login later.
        if (!is_valid_utf8(v)) {
            return std::string("must be valid UTF-8");
        }
        c.*field = std::string(v);
        return std::nullopt;
    };
}

// A string that `check` accepts: paths, the proxy URL.
Handler checked_handler(std::string Config::*field, std::optional<std::string> (*check)(std::string_view)) {
    return [field, check](std::string_view v, Config& c) -> std::optional<std::string> {
        if (auto problem = check(v)) {
            return problem;
        }
        c.*field = std::string(v);
        return std::nullopt;
    };
}

// 0 (off) to a day, whole seconds: grace_period, server_retry_after.
Handler whole_seconds_handler(long Config::*field) {
    return [field](std::string_view v, Config& c) -> std::optional<std::string> {
        const auto seconds = parse_int(v, 0, 86400);
        if (!seconds) {
            return std::string("must be whole seconds from 0 (off) to 86400");
        }
        c.*field = *seconds;
        return std::nullopt;
    };
}

Handler secret_handler(Secret Config::*field) {
    return [field](std::string_view v, Config& c) -> std::optional<std::string> {
        if (v.empty() || has_control_chars(v)) {
            return std::string("must be a non-empty secret without control characters");
        }
        (c.*field).assign(v);
        return std::nullopt;
    };
}

using HandlerTable = std::map<std::string, Handler, std::less<>>;

std::optional<std::string> set_servers(std::string_view v, Config& c) {
    const auto urls = split_list(v);
    if (urls.empty()) {
        return std::string("needs at least one https:// URL");
    }
    std::vector<std::string> servers;
    for (std::string_view url : urls) {
        if (auto problem = check_server_url(url)) {
            return problem;
        }
        servers.push_back(strip_trailing_slashes(url));
    }
    c.servers = std::move(servers);
    return std::nullopt;
}

std::optional<std::string> set_tries(std::string_view v, Config& c) {
    const auto n = parse_int(v, 1, 10);
    if (!n) {
        return std::string("must be a whole number from 1 to 10");
    }
    c.tries = *n;
    return std::nullopt;
}

std::optional<std::string> set_pinned_pubkeys(std::string_view v, Config& c) {
    std::size_t start = 0;
    while (start <= v.size()) {
        const std::size_t end = std::min(v.find(';', start), v.size());
        const std::string_view pin = v.substr(start, end - start);
        if (pin.size() <= 8 || pin.substr(0, 8) != "sha256//") {
            return std::string("must be sha256//<base64>[;sha256//<base64>...]");
        }
        start = end + 1;
    }
    c.pinned_pubkey = std::string(v);
    return std::nullopt;
}

std::optional<std::string> set_groups(std::string_view v, Config& c) {
    std::vector<std::string> required;
    std::vector<std::string> exempt;
    for (std::string_view item : split_list(v)) {
        const bool exempting = item.front() == '!';
        const std::string_view name = exempting ? item.substr(1) : item;
        if (name.empty() || has_control_chars(name) || name.find(':') != std::string_view::npos) {
            return "'" + printable(item) + "' is not a group name";
        }
        (exempting ? exempt : required).emplace_back(name);
    }
    c.groups = std::move(required);
    c.exempt_groups = std::move(exempt);
    return std::nullopt;
}

std::optional<std::string> set_trusted_networks(std::string_view v, Config& c) {
    std::vector<Network> networks;
    for (std::string_view item : split_list(v)) {
        const auto network = parse_network(item);
        if (!network) {
            return "'" + printable(item) + "' is not an IPv4 or IPv6 network (address[/prefix])";
        }
        networks.push_back(*network);
    }
    c.trusted_networks = std::move(networks);
    return std::nullopt;
}

std::optional<std::string> set_username_map(std::string_view v, Config& c) {
    std::vector<UsernameMapStep> steps;
    for (std::string_view item : split_list(v)) {
        const std::string name = ascii_lower(item);
        UsernameMapStep step;
        if (name == "strip_domain") {
            step.kind = UsernameMapStep::Kind::StripDomain;
        } else if (name == "lowercase") {
            step.kind = UsernameMapStep::Kind::Lowercase;
        } else if (name.compare(0, 5, "file:") == 0) {
            step.kind = UsernameMapStep::Kind::File;
            step.path = std::string(item.substr(5));
            if (step.path.empty() || step.path.front() != '/' || has_control_chars(step.path)) {
                return std::string("file: needs an absolute path (file:/etc/security/pam_fac.users)");
            }
        } else if (name == "none") {
            continue;
        } else {
            return std::string(
                "must be none, strip_domain, lowercase or file:PATH (comma-separated, applied in order)");
        }
        steps.push_back(std::move(step));
    }
    c.username_map = std::move(steps);
    return std::nullopt;
}

std::optional<std::string> set_offline_grace(std::string_view v, Config& c) {
    const auto seconds = parse_int(v, 0, kMaxOfflineGrace);
    if (!seconds) {
        return "must be whole seconds from 0 (off) to " + std::to_string(kMaxOfflineGrace);
    }
    c.offline_grace_s = *seconds;
    return std::nullopt;
}

std::optional<std::string> set_rescue_codes(std::string_view v, Config& c) {
    if (ascii_lower(v) == "offline") {
        c.rescue_codes = RescueMode::Offline;
        return std::nullopt;
    }
    const auto b = parse_bool(v);
    if (!b) {
        return std::string("must be offline, yes or no");
    }
    c.rescue_codes = *b ? RescueMode::Yes : RescueMode::No;
    return std::nullopt;
}

std::optional<std::string> set_state_dir(std::string_view v, Config& c) {
    if (v.empty() || v.front() != '/' || has_control_chars(v)) {
        return std::string("must be an absolute path");
    }
    c.state_dir = std::string(v);
    return std::nullopt;
}

// The servers and how they are reached: URLs, API credentials, TLS, proxy, timeouts.
void add_server_keys(HandlerTable& table) {
    table.insert({
        {"server", set_servers},
        {"api_user", string_handler(&Config::api_user, false)},
        {"api_key", secret_handler(&Config::api_key)},
        {"realm", string_handler(&Config::realm, true)},
        {"ca_file", checked_handler(&Config::ca_file, check_path)},
        {"ca_path", checked_handler(&Config::ca_path, check_path)},
        {"pinned_pubkey", set_pinned_pubkeys},
        {"tls_verify", bool_handler(&Config::tls_verify)},
        {"http_proxy", checked_handler(&Config::http_proxy, check_proxy_url)},
        {"user_agent", string_handler(&Config::user_agent, false)},
        {"connect_timeout", duration_handler(&Config::connect_timeout_ms, 60)},
        {"timeout", duration_handler(&Config::timeout_ms, 300)},
        {"server_retry_after", whole_seconds_handler(&Config::server_retry_after_s)},
    });
}

// What the user is asked and how answers are judged.
void add_flow_keys(HandlerTable& table) {
    table.insert({
        {"password", bool_handler(&Config::password)},
        {"second_factor",
         enum_handler<SecondFactor>(&Config::second_factor, {{"code", SecondFactor::Code},
                                                             {"push", SecondFactor::Push},
                                                             {"code_or_push", SecondFactor::CodeOrPush},
                                                             {"none", SecondFactor::None}})},
        {"otp_append", bool_handler(&Config::otp_append)},
        {"tries", set_tries},
        {"echo_code", bool_handler(&Config::echo_code)},
        {"push_timeout", duration_handler(&Config::push_timeout_ms, 600)},
        {"push_message", string_handler(&Config::push_message, true)},
        {"autopush", bool_handler(&Config::autopush)},
        {"failmode",
         enum_handler<FailMode>(&Config::failmode, {{"secure", FailMode::Secure}, {"safe", FailMode::Safe}})},
        {"unknown_user",
         enum_handler<UnknownUserPolicy>(&Config::unknown_user,
                                         {{"deny", UnknownUserPolicy::Deny}, {"ignore", UnknownUserPolicy::Ignore}})},
        {"debug", bool_handler(&Config::debug)},
    });
}

// backend = ftc: FortiToken Cloud.
void add_ftc_keys(HandlerTable& table) {
    table.insert({
        {"backend",
         enum_handler<BackendKind>(&Config::backend, {{"fac", BackendKind::Fac}, {"ftc", BackendKind::Ftc}})},
        {"ftc_client_id", string_handler(&Config::ftc_client_id, false)},
        {"ftc_client_secret", secret_handler(&Config::ftc_client_secret)},
        {"vdom", string_handler(&Config::vdom, false)},
        {"ftc_sn", string_handler(&Config::ftc_sn, false)},
        {"poll_interval", duration_handler(&Config::poll_interval_ms, 30)},
    });
}

// Who is asked at all, and under which name.
void add_policy_keys(HandlerTable& table) {
    table.insert({
        {"groups", set_groups},
        {"trusted_networks", set_trusted_networks},
        {"username_map", set_username_map},
        {"fac_username", enum_handler<FacUsername>(&Config::fac_username,
                                                   {{"user", FacUsername::User}, {"ruser", FacUsername::Ruser}})},
    });
}

// What is kept between logins: grace records, offline records, rescue codes.
void add_state_keys(HandlerTable& table) {
    table.insert({
        {"grace_period", whole_seconds_handler(&Config::grace_period_s)},
        {"offline_grace", set_offline_grace},
        {"rescue_codes", set_rescue_codes},
        {"rescue_dir", checked_handler(&Config::rescue_dir, check_path)},
        {"state_dir", set_state_dir},
    });
}

HandlerTable make_handlers() {
    HandlerTable table;
    add_server_keys(table);
    add_flow_keys(table);
    add_ftc_keys(table);
    add_policy_keys(table);
    add_state_keys(table);
    return table;
}

const HandlerTable& handlers() {
    // Never destroyed: the module stays loaded until the process exits, and
    // a host thread may still be reading a config file while another thread
    // calls exit(), which would run the table's destructor under it.
    static const auto* const table = new HandlerTable(make_handlers());
    return *table;
}

std::optional<std::string> describe_open_error(int err) {
    switch (err) {
    case ELOOP:
        return std::string("is a symbolic link; point to the real file");
    case ENOENT:
        return std::string("does not exist");
    case EACCES:
        return std::string("cannot be read (permission denied)");
    default:
        return std::string("cannot be opened: ") + std::strerror(err);
    }
}

std::string octal_mode(mode_t mode) {
    char buf[8];
    (void)std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

// Splits the file into settings; fills `file` keyed by name.
std::optional<ConfigError> parse_lines(const std::string& path, std::string_view text,
                                       std::map<std::string, Setting, std::less<>>& file) {
    if (text.find('\0') != std::string_view::npos) {
        return ConfigError{path + ": contains NUL bytes; it is not a text config file"};
    }
    std::map<std::string, std::size_t, std::less<>> first_line;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++line_no;
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) {
            eol = text.size();
        }
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        line = trim(line);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
            continue;
        }
        const std::string where = path + ":" + std::to_string(line_no);
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            return ConfigError{where + ": expected 'key = value', found no '='"};
        }
        const std::string_view key = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        if (key.empty()) {
            return ConfigError{where + ": missing key before '='"};
        }
        if (!value.empty() && value.front() == '"') {
            if (value.size() < 2 || value.back() != '"') {
                return ConfigError{where + ": value of '" + printable(key) + "' has an unterminated quote"};
            }
            value = value.substr(1, value.size() - 2);
        }
        if (auto it = first_line.find(key); it != first_line.end()) {
            return ConfigError{where + ": duplicate key '" + printable(key) + "' (first set on line " +
                               std::to_string(it->second) + ")"};
        }
        first_line.emplace(std::string(key), line_no);
        file.emplace(std::string(key), Setting{value, where});
    }
    return std::nullopt;
}

std::optional<ConfigError> apply_setting(std::string_view key, const Setting& s, Config& c) {
    const auto& table = handlers();
    const auto it = table.find(key);
    if (it == table.end()) {
        if (key == "api_key_file" || key == "ftc_client_secret_file") {
            // Read after the others, under the file rules.
            if (auto problem = check_path(s.value)) {
                return ConfigError{s.where + ": " + std::string(key) + " " + *problem};
            }
            return std::nullopt;
        }
        return ConfigError{s.where + ": unknown key '" + printable(key) + "'"};
    }
    if (key == "groups") {
        c.groups_where = s.where;
    }
    if (key == "username_map") {
        c.username_map_where = s.where;
    }
    if (auto problem = it->second(s.value, c)) {
        return ConfigError{s.where + ": " + std::string(key) + shown_value(key, s.value) + ": " + *problem};
    }
    return std::nullopt;
}

using SettingMap = std::map<std::string, Setting, std::less<>>;

// Exactly one of a secret and its _file form.
std::optional<ConfigError> one_of(const SettingMap& merged, const Config& c, const char* key, const char* file_key) {
    const bool inline_set = merged.count(key) != 0;
    const bool file_set = merged.count(file_key) != 0;
    if (inline_set && file_set) {
        return ConfigError{merged.at(file_key).where + ": set either " + key + " or " + file_key + ", not both"};
    }
    if (!inline_set && !file_set) {
        return ConfigError{c.path + ": missing required key '" + key + "' (or '" + file_key + "')"};
    }
    return std::nullopt;
}

std::optional<ConfigError> check_combination(const SettingMap& merged, Config& c) {
    auto where = [&](const char* key) {
        const auto it = merged.find(key);
        return it != merged.end() ? it->second.where : c.path;
    };
    if (c.backend == BackendKind::Fac) {
        if (c.servers.empty()) {
            return ConfigError{c.path + ": missing required key 'server'"};
        }
        if (c.api_user.empty()) {
            return ConfigError{c.path + ": missing required key 'api_user'"};
        }
        if (auto error = one_of(merged, c, "api_key", "api_key_file")) {
            return error;
        }
    } else {
        if (c.servers.empty()) {
            c.servers.emplace_back(kDefaultFtcServer);
        }
        if (c.ftc_client_id.empty()) {
            return ConfigError{c.path + ": backend = ftc needs 'ftc_client_id'"};
        }
        if (auto error = one_of(merged, c, "ftc_client_secret", "ftc_client_secret_file")) {
            return error;
        }
        if (c.password || c.otp_append) {
            return ConfigError{where("backend") +
                               ": backend = ftc checks codes and pushes only; set password = no "
                               "and let another module check the password"};
        }
    }
    if (c.second_factor == SecondFactor::None && !c.password) {
        return ConfigError{where("second_factor") + ": second_factor = none needs password = yes"};
    }
    if (c.otp_append && !c.password) {
        return ConfigError{where("otp_append") + ": otp_append = yes needs password = yes"};
    }
    if (c.otp_append && (c.second_factor == SecondFactor::Push || c.second_factor == SecondFactor::None)) {
        return ConfigError{where("otp_append") +
                           ": otp_append = yes needs a code (second_factor = code or code_or_push)"};
    }
    return std::nullopt;
}

// A secret kept in its own file (api_key_file, ftc_client_secret_file):
// the same rules as the config file, and the secret on the first line.
std::optional<ConfigError> read_secret_file(const SettingMap& merged, const char* key, uid_t euid, Secret& out) {
    const auto it = merged.find(key);
    if (it == merged.end()) {
        return std::nullopt;
    }
    const std::string path(it->second.value);
    const std::string where = it->second.where + ": " + key;
    Secret text;
    if (auto problem = read_protected_file(path, euid, kMaxKeyFileSize, text)) {
        return ConfigError{where + " " + *problem};
    }
    const std::string_view first_line = trim(text.view().substr(0, text.view().find('\n')));
    if (first_line.empty() || has_control_chars(first_line)) {
        return ConfigError{where + " " + path + " must hold the secret on its first line"};
    }
    out.assign(first_line);
    return std::nullopt;
}

// username_map's file:PATH steps: `local_name fac_name` lines, '#'
// comments. Read at every load, so an edit applies to the next login.
std::optional<ConfigError> read_map_files(uid_t euid, Config& c) {
    for (UsernameMapStep& step : c.username_map) {
        if (step.kind != UsernameMapStep::Kind::File) {
            continue;
        }
        Secret text;
        if (auto problem = read_protected_file(step.path, euid, kMaxMapFileSize, text, true)) {
            return ConfigError{c.username_map_where + ": username_map file " + *problem};
        }
        const std::string_view all = text.view();
        if (all.find('\0') != std::string_view::npos) {
            return ConfigError{c.username_map_where + ": username_map file " + step.path + " contains NUL bytes"};
        }
        std::size_t line_no = 0;
        std::size_t pos = 0;
        while (pos < all.size()) {
            ++line_no;
            const std::size_t eol = std::min(all.find('\n', pos), all.size());
            const std::string_view line = trim(all.substr(pos, eol - pos));  // trim takes a CRLF's CR too
            pos = eol + 1;
            if (line.empty() || line.front() == '#') {
                continue;
            }
            const std::string where = step.path + ":" + std::to_string(line_no);
            const auto fields = split_list(line);
            if (fields.size() != 2 || line.find(',') != std::string_view::npos) {
                return ConfigError{where + ": expected 'local_name fac_name'"};
            }
            if (!is_valid_username(fields[0]) || !is_valid_username(fields[1])) {
                return ConfigError{where + ": '" + printable(line) + "' is not two valid user names"};
            }
            if (!step.names.emplace(std::string(fields[0]), std::string(fields[1])).second) {
                return ConfigError{where + ": '" + printable(fields[0]) + "' is mapped twice"};
            }
        }
    }
    return std::nullopt;
}

// The stack line's arguments: flags, conf=, and settings that override the
// file's (never a secret: /etc/pam.d is world-readable).
std::optional<ConfigError> parse_module_arguments(const std::vector<std::string>& args, Config& c,
                                                  std::map<std::string, Setting, std::less<>>& from_args) {
    bool conf_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        const std::string where = "module argument '" + printable(arg.substr(0, arg.find('='))) + "'";
        if (arg == "use_first_pass" || arg == "try_first_pass") {
            if (c.authtok_source != AuthtokSource::Prompt) {
                return ConfigError{where + ": use_first_pass and try_first_pass are exclusive; keep one"};
            }
            c.authtok_source = arg == "use_first_pass" ? AuthtokSource::UseFirstPass : AuthtokSource::TryFirstPass;
            continue;
        }
        if (arg == "forward_pass") {
            c.forward_pass = true;
            continue;
        }
        const std::string_view view(arg);
        const std::size_t eq = view.find('=');
        const std::string_view key = arg == "debug" ? view : view.substr(0, eq);
        const std::string_view value = arg == "debug" ? std::string_view("yes") : view.substr(eq + 1);
        if (arg != "debug" && eq == std::string_view::npos) {
            return ConfigError{where + ": unknown argument"};
        }
        if (key == "conf") {
            if (value.empty() || value.front() != '/') {
                return ConfigError{where + ": conf= needs an absolute path"};
            }
            if (conf_given) {
                return ConfigError{where + ": given twice"};
            }
            conf_given = true;
            c.path = std::string(value);
            continue;
        }
        if (is_secret_key(key)) {
            return ConfigError{where +
                               ": secrets are not accepted on a stack line (/etc/pam.d is world-readable); "
                               "set " +
                               std::string(key) + " in the config file or use " + std::string(key) + "_file="};
        }
        if (from_args.count(key) != 0) {
            return ConfigError{where + ": given twice"};
        }
        from_args.emplace(std::string(key), Setting{value, where});
    }

    return std::nullopt;
}

}  // namespace

const char* second_factor_name(SecondFactor sf) {
    switch (sf) {
    case SecondFactor::Code:
        return "code";
    case SecondFactor::Push:
        return "push";
    case SecondFactor::CodeOrPush:
        return "code_or_push";
    case SecondFactor::None:
        return "none";
    }
    return "?";
}

std::optional<std::string> read_protected_file(const std::string& path, uid_t euid, std::size_t max_size,
                                               Secret& contents, bool readable_by_others) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        return path + " " + *describe_open_error(errno);
    }
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return path + " cannot be inspected: " + std::strerror(errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return path + " is not a regular file";
    }
    if (st.st_uid != 0 && st.st_uid != euid) {
        return path + " is owned by uid " + std::to_string(st.st_uid) + "; it must be owned by root (chown root " +
               path + ")";
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return path + " is writable by group or others (mode " + octal_mode(st.st_mode) + "); run chmod 600 " + path;
    }
    if (!readable_by_others && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        return path + " is readable by group or others (mode " + octal_mode(st.st_mode) +
               ") and holds a secret; run chmod 600 " + path;
    }
    if (static_cast<std::size_t>(st.st_size) > max_size) {
        return path + " is larger than " + std::to_string(max_size) + " bytes; it is not a config file";
    }
    contents.clear();
    contents.reserve(static_cast<std::size_t>(st.st_size) + 1);
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            wipe_memory(buf, sizeof buf);
            return path + " cannot be read: " + std::strerror(errno);
        }
        if (n == 0) {
            break;
        }
        if (contents.size() + static_cast<std::size_t>(n) > max_size) {
            wipe_memory(buf, sizeof buf);
            return path + " is larger than " + std::to_string(max_size) + " bytes; it is not a config file";
        }
        contents.append(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    wipe_memory(buf, sizeof buf);
    return std::nullopt;
}

std::optional<ConfigError> load_config(const std::vector<std::string>& args, uid_t euid, Config& out) {
    Config c;
    std::map<std::string, Setting, std::less<>> from_args;
    if (auto error = parse_module_arguments(args, c, from_args)) {
        return error;
    }

    Secret text;
    if (auto problem = read_protected_file(c.path, euid, kMaxConfigSize, text)) {
        return ConfigError{*problem};
    }
    std::map<std::string, Setting, std::less<>> merged;
    if (auto error = parse_lines(c.path, text.view(), merged)) {
        return error;
    }
    for (auto& [key, setting] : from_args) {
        merged[key] = setting;
    }
    for (const auto& [key, setting] : merged) {
        if (auto error = apply_setting(key, setting, c)) {
            return error;
        }
    }
    if (auto error = check_combination(merged, c)) {
        return error;
    }
    if (auto error = read_secret_file(merged, "api_key_file", euid, c.api_key)) {
        return error;
    }
    if (auto error = read_secret_file(merged, "ftc_client_secret_file", euid, c.ftc_client_secret)) {
        return error;
    }
    if (auto error = read_map_files(euid, c)) {
        return error;
    }
    out = std::move(c);
    return std::nullopt;
}

}  // namespace pamfac

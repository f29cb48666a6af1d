// Unit tests of common/config/config.h: the config file of pam_fac.conf(5), the
// module arguments of pam_fac(8), OPTIONS, and the file security rules, through
// load_config() and read_protected_file(). Files live in a mkdtemp()
// directory under /tmp that the group teardown removes.
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/text.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

constexpr uid_t kOtherUid = 12345;

// A minimal valid file: lines 1-3. Tests append from line 4 on.
const std::string kBase =
    "server = https://fac.example.com\n"
    "api_user = pam\n"
    "api_key = k3y\n";

std::string g_dir;
int g_counter = 0;

// --- files ------------------------------------------------------------------------

std::string path_in_dir(const std::string& name) {
    return g_dir + "/" + name;
}

std::string write_file(const std::string& name, std::string_view content, mode_t mode = 0600) {
    const std::string path = path_in_dir(name);
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fail_msg("cannot create %s: %s", path.c_str(), strerror(errno));
    }
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        assert_true(n > 0);
        done += static_cast<std::size_t>(n);
    }
    assert_int_equal(::fchmod(fd, mode), 0);
    ::close(fd);
    return path;
}

std::string new_conf(std::string_view content, mode_t mode = 0600) {
    return write_file("c" + std::to_string(++g_counter) + ".conf", content, mode);
}

std::string new_name(const char* stem) {
    return path_in_dir(std::string(stem) + std::to_string(++g_counter));
}

int remove_entry(const char* path, const struct stat* /*st*/, int /*flag*/, struct FTW* /*ftw*/) {
    return ::remove(path);
}

int make_dir(void** /*state*/) {
    char tmpl[] = "/tmp/pamfac-test-config-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        return -1;
    }
    g_dir = tmpl;
    return 0;
}

int remove_dir(void** /*state*/) {
    return ::nftw(g_dir.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// --- loading ----------------------------------------------------------------------

struct Loaded {
    std::optional<ConfigError> error;
    Config config;
    std::string path;
};

Loaded load_path(const std::string& path, std::vector<std::string> args = {}, uid_t euid = 0) {
    Loaded r;
    r.path = path;
    args.insert(args.begin(), "conf=" + path);
    r.error = load_config(args, euid, r.config);
    return r;
}

Loaded load(std::string_view content, std::vector<std::string> args = {}, uid_t euid = 0) {
    return load_path(new_conf(content), std::move(args), euid);
}

Config ok(std::string_view content, std::vector<std::string> args = {}, uid_t euid = 0) {
    Loaded r = load(content, std::move(args), euid);
    if (r.error) {
        fail_msg("unexpected config error: %s", r.error->message.c_str());
    }
    return std::move(r.config);
}

void check_contains(const std::string& message, const std::string& needle) {
    if (message.find(needle) == std::string::npos) {
        fail_msg("error message '%s' does not contain '%s'", message.c_str(), needle.c_str());
    }
}

void check_lacks(const std::string& message, const std::string& needle) {
    if (message.find(needle) != std::string::npos) {
        fail_msg("error message '%s' contains '%s'", message.c_str(), needle.c_str());
    }
}

std::string error_of(const Loaded& r) {
    if (!r.error) {
        fail_msg("config %s loaded, but an error was expected", r.path.c_str());
    }
    return r.error->message;
}

// Loads `content` and checks the error names "<file>:<line>:" and `needle`.
std::string expect_error_at(std::string_view content, int line, const std::string& needle,
                            std::vector<std::string> args = {}) {
    const Loaded r = load(content, std::move(args));
    const std::string message = error_of(r);
    check_contains(message, r.path + ":" + std::to_string(line) + ":");
    check_contains(message, needle);
    return message;
}

// Loads a config whose only problem is a module argument; checks the error
// names the argument.
std::string expect_argument_error(std::vector<std::string> args, const std::string& arg_name,
                                  const std::string& needle) {
    const Loaded r = load(kBase, std::move(args));
    const std::string message = error_of(r);
    check_contains(message, "module argument '" + arg_name + "'");
    check_contains(message, needle);
    check_lacks(message, r.path + ":");
    return message;
}

std::string base_with(const std::string& lines) {
    return kBase + lines;
}

// ============================================================================
// Keys (pam_fac.conf(5))
// ============================================================================

void minimal_file_gives_defaults(void** /*state*/) {
    const Loaded r = load(kBase);
    if (r.error) {
        fail_msg("%s", r.error->message.c_str());
    }
    const Config& c = r.config;
    assert_string_equal(c.path.c_str(), r.path.c_str());
    assert_int_equal(c.servers.size(), 1);
    assert_string_equal(c.servers[0].c_str(), "https://fac.example.com");
    assert_string_equal(c.api_user.c_str(), "pam");
    assert_true(c.api_key.view() == "k3y");
    assert_true(c.realm.empty());
    assert_false(c.password);
    assert_int_equal(static_cast<int>(c.second_factor), static_cast<int>(SecondFactor::CodeOrPush));
    assert_false(c.otp_append);
    assert_int_equal(c.tries, 3);
    assert_false(c.echo_code);
    assert_int_equal(c.connect_timeout_ms, 3000);
    assert_int_equal(c.timeout_ms, 10000);
    assert_int_equal(c.push_timeout_ms, 60000);
    assert_string_equal(c.push_message.c_str(), "{service} login to {host} as {user} from {rhost}");
    assert_int_equal(static_cast<int>(c.failmode), static_cast<int>(FailMode::Secure));
    assert_int_equal(static_cast<int>(c.unknown_user), static_cast<int>(UnknownUserPolicy::Deny));
    assert_true(c.ca_file.empty());
    assert_true(c.ca_path.empty());
    assert_true(c.pinned_pubkey.empty());
    assert_true(c.tls_verify);
    assert_true(c.http_proxy.empty());
    assert_false(c.debug);
    assert_int_equal(static_cast<int>(c.authtok_source), static_cast<int>(AuthtokSource::Prompt));
    assert_false(c.forward_pass);
}

void default_user_agent_has_version(void** /*state*/) {
    const Config c = ok(kBase);
    assert_string_equal(c.user_agent.c_str(), "pam_fac/" PAMFAC_VERSION);
    assert_true(std::strlen(PAMFAC_VERSION) > 0);
}

// --- server -------------------------------------------------------------------------

void server_list_comma_and_space_separated(void** /*state*/) {
    const Config c =
        ok("server = https://fac1.example.com, https://fac2.example.com:8443 ,https://fac3.example.com\t"
           "https://fac4.example.com/fac\n"
           "api_user = pam\napi_key = k3y\n");
    assert_int_equal(c.servers.size(), 4);
    assert_string_equal(c.servers[0].c_str(), "https://fac1.example.com");
    assert_string_equal(c.servers[1].c_str(), "https://fac2.example.com:8443");
    assert_string_equal(c.servers[2].c_str(), "https://fac3.example.com");
    assert_string_equal(c.servers[3].c_str(), "https://fac4.example.com/fac");
}

void server_trailing_slash_stripped(void** /*state*/) {
    const Config c =
        ok("server = https://fac.example.com/ https://fac2.example.com/prefix//\n"
           "api_user = pam\napi_key = k3y\n");
    assert_int_equal(c.servers.size(), 2);
    assert_string_equal(c.servers[0].c_str(), "https://fac.example.com");
    assert_string_equal(c.servers[1].c_str(), "https://fac2.example.com/prefix");
}

void server_ipv6_literal_with_port(void** /*state*/) {
    const Config c = ok("server = https://[::1]:8443/, https://[2001:db8::10]\napi_user = pam\napi_key = k3y\n");
    assert_int_equal(c.servers.size(), 2);
    assert_string_equal(c.servers[0].c_str(), "https://[::1]:8443");
    assert_string_equal(c.servers[1].c_str(), "https://[2001:db8::10]");
}

void server_with_prefix_path(void** /*state*/) {
    const Config c = ok("server = https://proxy.example.com:443/fac/node1/\napi_user = pam\napi_key = k3y\n");
    assert_string_equal(c.servers[0].c_str(), "https://proxy.example.com:443/fac/node1");
}

void server_ip_and_port(void** /*state*/) {
    const Config c = ok("server = https://127.0.0.1:65535\napi_user = pam\napi_key = k3y\n");
    assert_string_equal(c.servers[0].c_str(), "https://127.0.0.1:65535");
}

void server_http_refused(void** /*state*/) {
    const std::string m =
        expect_error_at("# servers\nserver = http://fac.example.com\napi_user = pam\napi_key = k\n", 2, "https://");
    check_contains(m, "server");
}

void server_http_among_https_refused(void** /*state*/) {
    expect_error_at("api_user = pam\napi_key = k\nserver = https://a.example.com, http://b.example.com\n", 3,
                    "http://b.example.com");
}

void server_other_schemes_refused(void** /*state*/) {
    for (const char* url :
         {"ftp://fac.example.com", "fac.example.com", "https:/fac.example.com", "//fac", "https//fac.example.com"}) {
        expect_error_at(std::string("api_user = pam\napi_key = k\nserver = ") + url + "\n", 3, "https://");
    }
}

void server_userinfo_refused(void** /*state*/) {
    expect_error_at("server = https://admin@fac.example.com\napi_user = pam\napi_key = k\n", 1, "server");
    expect_error_at("api_user = pam\napi_key = k\nserver = https://admin:pw@fac.example.com\n", 3, "server");
}

void server_query_and_fragment_refused(void** /*state*/) {
    expect_error_at("api_user = pam\napi_key = k\nserver = https://fac.example.com/?debug=1\n", 3, "server");
    expect_error_at("api_user = pam\napi_key = k\nserver = https://fac.example.com/#x\n", 3, "server");
    expect_error_at("api_user = pam\napi_key = k\nserver = https://fac.example.com\\api\n", 3, "server");
}

void server_bad_port_refused(void** /*state*/) {
    for (const char* url : {"https://fac.example.com:0", "https://fac.example.com:65536", "https://fac.example.com:",
                            "https://fac.example.com:http", "https://[::1]:99999", "https://fac:-1"}) {
        expect_error_at(std::string("api_user = pam\napi_key = k\nserver = ") + url + "\n", 3, "port");
    }
}

void server_without_host_refused(void** /*state*/) {
    for (const char* url : {"https://", "https:///prefix", "https://:8443", "https://[]:8443"}) {
        expect_error_at(std::string("api_user = pam\napi_key = k\nserver = ") + url + "\n", 3, "server");
    }
}

void server_bad_ipv6_refused(void** /*state*/) {
    expect_error_at("api_user = pam\napi_key = k\nserver = https://[::1\n", 3, "IPv6");
    expect_error_at("api_user = pam\napi_key = k\nserver = https://[::1]8443\n", 3, "server");
}

void server_c1_control_refused(void** /*state*/) {
    // U+009C (UTF-8 c2 9c) in the host: found by fuzz_config, whose seed
    // tests/fuzz/corpus/config/regression_c1_in_server_host.conf keeps it.
    const std::string m = expect_error_at("api_user = pam\napi_key = k\nserver = https://fac\xC2\x9C.example.com\n", 3,
                                          "character not allowed");
    assert_false(has_control_chars(m));
    expect_error_at("api_user = pam\napi_key = k\nserver = https://fac.example.com/p\xC2\x85\n", 3,
                    "character not allowed");
}

void server_empty_refused(void** /*state*/) {
    expect_error_at("api_user = pam\napi_key = k\nserver =\n", 3, "server");
    expect_error_at("api_user = pam\napi_key = k\nserver = , ,\n", 3, "server");
}

// --- api_user, api_key, api_key_file --------------------------------------------------

void api_user_value(void** /*state*/) {
    const Config c = ok("server = https://fac.example.com\napi_user = svc-pam@corp\napi_key = k3y\n");
    assert_string_equal(c.api_user.c_str(), "svc-pam@corp");
}

void api_user_empty_refused(void** /*state*/) {
    expect_error_at("server = https://fac.example.com\napi_user =\napi_key = k3y\n", 2, "api_user");
}

void api_key_value_kept_exactly(void** /*state*/) {
    const Config c = ok("server = https://fac.example.com\napi_user = pam\napi_key = \"  Zx9/+= k;#ey  \"\n");
    assert_true(c.api_key.view() == "  Zx9/+= k;#ey  ");
}

void api_key_file_first_line(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "fileK3y-value\nsecond line ignored\n");
    const Config c = ok("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n");
    assert_true(c.api_key.view() == "fileK3y-value");
}

void api_key_file_trims_crlf_and_spaces(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "  fileK3y \r\n");
    const Config c = ok("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n");
    assert_true(c.api_key.view() == "fileK3y");
    const std::string bare = write_file("key" + std::to_string(++g_counter), "noNewline");
    assert_true(ok("server = https://fac.example.com\napi_user = pam\napi_key_file = " + bare + "\n").api_key.view() ==
                "noNewline");
}

void api_key_file_empty_first_line_refused(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "\nk3y-on-line-two\n");
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n", 3, key);
    check_contains(m, "first line");
    check_lacks(m, "k3y-on-line-two");
}

void api_key_file_relative_path_refused(void** /*state*/) {
    expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = keys/fac.key\n", 3, "absolute");
}

void api_key_file_missing(void** /*state*/) {
    const std::string key = new_name("missing-key");
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n", 3, key);
    check_contains(m, "does not exist");
}

void api_key_file_group_readable_refused(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "secretK3y\n", 0640);
    const std::string m =
        expect_error_at("server = https://fac.example.com\n\napi_user = pam\napi_key_file = " + key + "\n", 4, key);
    check_contains(m, "readable");
    check_lacks(m, "secretK3y");
}

void api_key_file_other_writable_refused(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "secretK3y\n", 0602);
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n", 3, key);
    check_contains(m, "writable");
}

void api_key_file_foreign_owner_refused(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "secretK3y\n", 0600);
    assert_int_equal(::chown(key.c_str(), kOtherUid, 0), 0);
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n", 3, key);
    check_contains(m, "owned by uid 12345");
    // The same file is fine for a process running as its owner.
    const Config c =
        ok("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n", {}, kOtherUid);
    assert_true(c.api_key.view() == "secretK3y");
}

void api_key_file_symlink_refused(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "secretK3y\n");
    const std::string link = new_name("keylink");
    assert_int_equal(::symlink(key.c_str(), link.c_str()), 0);
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = " + link + "\n", 3, link);
    check_contains(m, "symbolic link");
}

void api_key_file_accepted_as_argument(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "argK3y\n");
    const Config c = ok("server = https://fac.example.com\napi_user = pam\n", {"api_key_file=" + key});
    assert_true(c.api_key.view() == "argK3y");
}

void secrets_refused_as_arguments(void** /*state*/) {
    // /etc/pam.d is world-readable: a secret there is a secret no more.
    for (const char* arg : {"api_key=ArgSekr3t", "ftc_client_secret=ArgSekr3t", "api_key="}) {
        const std::string name = std::string(arg).substr(0, std::string(arg).find('='));
        const std::string m = expect_argument_error({arg}, name, "stack line");
        check_contains(m, name + "_file");
        check_lacks(m, "ArgSekr3t");
    }
    // Refused even where the file lacks it.
    const Loaded r = load("server = https://fac.example.com\napi_user = pam\n", {"api_key=ArgSekr3t"});
    check_contains(error_of(r), "module argument 'api_key'");
}

void secret_files_accepted_as_arguments(void** /*state*/) {
    const std::string secret = write_file("secret" + std::to_string(++g_counter), "ftcS3cret\n");
    const Config c = ok("backend = ftc\nftc_client_id = id\n", {"ftc_client_secret_file=" + secret});
    assert_true(c.ftc_client_secret.view() == "ftcS3cret");
}

// --- realm, password, second_factor, otp_append ------------------------------------------

void realm_value(void** /*state*/) {
    assert_string_equal(ok(base_with("realm = corp.example\n")).realm.c_str(), "corp.example");
    assert_true(ok(base_with("realm = \"\"\n")).realm.empty());
    assert_true(ok(base_with("realm =\n")).realm.empty());
}

void password_yes_no(void** /*state*/) {
    assert_true(ok(base_with("password = yes\n")).password);
    assert_false(ok(base_with("password = no\n")).password);
    expect_error_at(base_with("password = maybe\n"), 4, "password");
}

void second_factor_all_values(void** /*state*/) {
    assert_int_equal(static_cast<int>(ok(base_with("second_factor = code\n")).second_factor),
                     static_cast<int>(SecondFactor::Code));
    assert_int_equal(static_cast<int>(ok(base_with("second_factor = push\n")).second_factor),
                     static_cast<int>(SecondFactor::Push));
    assert_int_equal(static_cast<int>(ok(base_with("second_factor = code_or_push\n")).second_factor),
                     static_cast<int>(SecondFactor::CodeOrPush));
    assert_int_equal(static_cast<int>(ok(base_with("password = yes\nsecond_factor = none\n")).second_factor),
                     static_cast<int>(SecondFactor::None));
    assert_int_equal(static_cast<int>(ok(base_with("second_factor = PUSH\n")).second_factor),
                     static_cast<int>(SecondFactor::Push));
}

void second_factor_bad_value_refused(void** /*state*/) {
    const std::string m = expect_error_at(base_with("second_factor = sms\n"), 4, "second_factor");
    check_contains(m, "code_or_push");
    expect_error_at(base_with("second_factor = code,push\n"), 4, "second_factor");
}

void second_factor_names(void** /*state*/) {
    assert_string_equal(second_factor_name(SecondFactor::Code), "code");
    assert_string_equal(second_factor_name(SecondFactor::Push), "push");
    assert_string_equal(second_factor_name(SecondFactor::CodeOrPush), "code_or_push");
    assert_string_equal(second_factor_name(SecondFactor::None), "none");
}

// backend = ftc: its own client credentials, and codes and pushes only.
void ftc_backend_needs_its_credentials(void** /*state*/) {
    check_contains(error_of(load("backend = ftc\nftc_client_secret = s3cr3t\n")), "needs 'ftc_client_id'");
    check_contains(error_of(load("backend = ftc\nftc_client_id = id\n")), "ftc_client_secret");
    const std::string with_password =
        expect_error_at("backend = ftc\nftc_client_id = id\nftc_client_secret = s3cr3t\npassword = yes\n", 1,
                        "checks codes and pushes only; set password = no");
    check_lacks(with_password, "s3cr3t");
    check_contains(
        error_of(load("backend = ftc\nftc_client_id = id\nftc_client_secret_file = " + new_name("none") + "\n")),
        "does not exist");
    const Config c = ok("backend = ftc\nftc_client_id = id\nftc_client_secret = s3cr3t\n");
    assert_int_equal(c.servers.size(), 1);  // FortiToken Cloud's own address by default
}

void second_factor_none_needs_password(void** /*state*/) {
    const std::string m = expect_error_at(base_with("# comment\nsecond_factor = none\n"), 5, "second_factor");
    check_contains(m, "password");
    expect_error_at(base_with("password = no\nsecond_factor = none\n"), 5, "password = yes");
}

void otp_append_with_password(void** /*state*/) {
    const Config c = ok(base_with("password = yes\notp_append = yes\n"));
    assert_true(c.otp_append);
    assert_true(ok(base_with("password = yes\notp_append = yes\nsecond_factor = code\n")).otp_append);
}

void otp_append_needs_password(void** /*state*/) {
    const std::string m = expect_error_at(base_with("otp_append = yes\n"), 4, "otp_append");
    check_contains(m, "password = yes");
}

void otp_append_refused_with_push(void** /*state*/) {
    expect_error_at(base_with("password = yes\nsecond_factor = push\notp_append = yes\n"), 6, "otp_append");
}

// --- tries and echo_code ---------------------------------------------------------------

void tries_bounds_accepted(void** /*state*/) {
    assert_int_equal(ok(base_with("tries = 1\n")).tries, 1);
    assert_int_equal(ok(base_with("tries = 5\n")).tries, 5);
    assert_int_equal(ok(base_with("tries = 10\n")).tries, 10);
}

void tries_out_of_bounds_refused(void** /*state*/) {
    for (const char* v : {"0", "11", "-1", "100", "3.5", "three", "3x", "", "99999999999999999999"}) {
        expect_error_at(base_with(std::string("tries = ") + v + "\n"), 4, "tries");
    }
}

void echo_code_value(void** /*state*/) {
    assert_true(ok(base_with("echo_code = yes\n")).echo_code);
    assert_false(ok(base_with("echo_code = no\n")).echo_code);
}

// --- durations ----------------------------------------------------------------------

void durations_whole_seconds(void** /*state*/) {
    const Config c = ok(base_with("connect_timeout = 5\ntimeout = 20\npush_timeout = 120\n"));
    assert_int_equal(c.connect_timeout_ms, 5000);
    assert_int_equal(c.timeout_ms, 20000);
    assert_int_equal(c.push_timeout_ms, 120000);
}

void durations_decimals(void** /*state*/) {
    const Config c = ok(base_with("connect_timeout = 0.5\ntimeout = 2.25\npush_timeout = 30.5\n"));
    assert_int_equal(c.connect_timeout_ms, 500);
    assert_int_equal(c.timeout_ms, 2250);
    assert_int_equal(c.push_timeout_ms, 30500);
}

void durations_at_maximum_accepted(void** /*state*/) {
    const Config c = ok(base_with("connect_timeout = 60\ntimeout = 300\npush_timeout = 600\n"));
    assert_int_equal(c.connect_timeout_ms, 60000);
    assert_int_equal(c.timeout_ms, 300000);
    assert_int_equal(c.push_timeout_ms, 600000);
}

void durations_over_maximum_refused(void** /*state*/) {
    expect_error_at(base_with("connect_timeout = 61\n"), 4, "connect_timeout");
    expect_error_at(base_with("timeout = 300.5\n"), 4, "timeout");
    expect_error_at(base_with("push_timeout = 601\n"), 4, "push_timeout");
    expect_error_at(base_with("push_timeout = 1000000000000\n"), 4, "push_timeout");
}

void durations_zero_negative_junk_refused(void** /*state*/) {
    for (const char* key : {"connect_timeout", "timeout", "push_timeout"}) {
        for (const char* v : {"0", "0.0", "-1", "-0.5", "abc", "5s", "1e3", "", "nan", "inf", "1,5", "0x10"}) {
            expect_error_at(base_with(std::string(key) + " = " + v + "\n"), 4, key);
        }
    }
}

// --- push_message, failmode, unknown_user ---------------------------------------------------

void push_message_value(void** /*state*/) {
    assert_string_equal(ok(base_with("push_message = {user} on {host}\n")).push_message.c_str(), "{user} on {host}");
    assert_string_equal(ok(base_with("push_message = \"  padded {user}  \"\n")).push_message.c_str(),
                        "  padded {user}  ");
}

void push_message_control_chars_refused(void** /*state*/) {
    expect_error_at(base_with("push_message = a\x1b[2Jb\n"), 4, "push_message");
}

void invalid_utf8_refused_when_read(void** /*state*/) {
    // Every login would fail later with a misleading message otherwise.
    for (const char* key : {"realm", "push_message", "api_user", "user_agent"}) {
        for (const char* value : {"caf\xE9", "\xC0\xAF", "ok\xE2\x82", "\xED\xA0\x80"}) {
            const std::string m =
                expect_error_at("server = https://fac.example.com\napi_key = k\n" + std::string(key) + " = " + value +
                                    (std::string(key) == "api_user" ? "\n" : "\napi_user = pam\n"),
                                3, "UTF-8");
            check_contains(m, key);
            assert_true(is_valid_utf8(m));
            expect_argument_error({std::string(key) + "=" + value}, key, "UTF-8");
        }
    }
    assert_string_equal(ok(base_with("realm = \xC3\xA9quipe\n")).realm.c_str(), "\xC3\xA9quipe");
}

void failmode_values(void** /*state*/) {
    assert_int_equal(static_cast<int>(ok(base_with("failmode = safe\n")).failmode), static_cast<int>(FailMode::Safe));
    assert_int_equal(static_cast<int>(ok(base_with("failmode = secure\n")).failmode),
                     static_cast<int>(FailMode::Secure));
    expect_error_at(base_with("failmode = open\n"), 4, "failmode");
}

void unknown_user_values(void** /*state*/) {
    assert_int_equal(static_cast<int>(ok(base_with("unknown_user = ignore\n")).unknown_user),
                     static_cast<int>(UnknownUserPolicy::Ignore));
    assert_int_equal(static_cast<int>(ok(base_with("unknown_user = deny\n")).unknown_user),
                     static_cast<int>(UnknownUserPolicy::Deny));
    expect_error_at(base_with("unknown_user = allow\n"), 4, "unknown_user");
}

// --- TLS and HTTP ------------------------------------------------------------------------

void ca_file_and_ca_path(void** /*state*/) {
    const Config c = ok(base_with("ca_file = /etc/ssl/fac-ca.pem\nca_path = /etc/ssl/certs\n"));
    assert_string_equal(c.ca_file.c_str(), "/etc/ssl/fac-ca.pem");
    assert_string_equal(c.ca_path.c_str(), "/etc/ssl/certs");
    expect_error_at(base_with("ca_file =\n"), 4, "ca_file");
}

void path_keys_must_be_absolute(void** /*state*/) {
    // Resolved against the caller's working directory otherwise: under sudo,
    // a directory of the user's choosing.
    for (const char* key : {"ca_file", "ca_path", "api_key_file", "state_dir"}) {
        for (const char* path : {"certs/fac-ca.pem", "./fac-ca.pem", "~/ca.pem", "../etc/ca.pem"}) {
            const std::string file =
                std::string(key) == "api_key_file" ? "server = https://fac.example.com\napi_user = pam\n" : kBase;
            const int line = std::string(key) == "api_key_file" ? 3 : 4;
            const std::string m = expect_error_at(file + key + " = " + path + "\n", line, key);
            check_contains(m, "absolute path");
            expect_argument_error({std::string(key) + "=" + path}, key, "absolute path");
        }
    }
    const std::string m = expect_error_at(base_with("ca_path = /etc/ssl/\x1b[2J\n"), 4, "control characters");
    assert_false(has_control_chars(m));
}

void pinned_pubkey_format(void** /*state*/) {
    assert_string_equal(
        ok(base_with("pinned_pubkey = sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=\n")).pinned_pubkey.c_str(),
        "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=");
    assert_string_equal(ok(base_with("pinned_pubkey = sha256//AAAA;sha256//BBBB\n")).pinned_pubkey.c_str(),
                        "sha256//AAAA;sha256//BBBB");
}

void pinned_pubkey_bad_format_refused(void** /*state*/) {
    for (const char* v : {"YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=", "sha256//", "sha1//AAAA", "sha256//AAAA;",
                          "sha256//AAAA;BBBB", "/etc/ssl/pin.der", ";sha256//AAAA"}) {
        expect_error_at(base_with(std::string("pinned_pubkey = ") + v + "\n"), 4, "sha256//");
    }
}

void tls_verify_value(void** /*state*/) {
    assert_false(ok(base_with("tls_verify = no\n")).tls_verify);
    assert_true(ok(base_with("tls_verify = yes\n")).tls_verify);
    expect_error_at(base_with("tls_verify = insecure\n"), 4, "tls_verify");
}

void http_proxy_value(void** /*state*/) {
    assert_string_equal(ok(base_with("http_proxy = http://proxy.example.com:3128\n")).http_proxy.c_str(),
                        "http://proxy.example.com:3128");
    assert_string_equal(ok(base_with("http_proxy = socks5h://u:p%2Fw@[2001:db8::1]:1080/\n")).http_proxy.c_str(),
                        "socks5h://u:p%2Fw@[2001:db8::1]:1080/");
}

void http_proxy_checked_when_read(void** /*state*/) {
    const std::pair<const char*, const char*> cases[] = {
        {"proxy.example.com:3128", "http://"},
        {"ftp://proxy.example.com:21", "http://"},
        {"http://proxy.example.com", "port"},
        {"http://proxy.example.com:99999", "port"},
        {"http://:3128", "host"},
        {"http://proxy.example.com:3128/path", "scheme://"},
        {"http://proxy example:3128", "character"},
    };
    for (const auto& [url, needle] : cases) {
        const std::string m = expect_error_at(base_with(std::string("http_proxy = \"") + url + "\"\n"), 4, needle);
        check_contains(m, "http_proxy");
        expect_argument_error({std::string("http_proxy=") + url}, "http_proxy", needle);
    }
}

void http_proxy_password_never_in_errors(void** /*state*/) {
    for (const char* url : {"http://alice:Pr0xyPw@proxy.example.com", "gopher://alice:Pr0xyPw@proxy.example.com:70",
                            "http://alice:Pr0xyPw@proxy.example.com:3128/x", "http://alice:Pr0/xyPw@proxy:3128"}) {
        const std::string m = expect_error_at(base_with(std::string("http_proxy = ") + url + "\n"), 4, "http_proxy");
        check_lacks(m, "Pr0");
        check_lacks(m, "alice");
        check_contains(m, "***@");
        check_lacks(expect_argument_error({std::string("http_proxy=") + url}, "http_proxy", "http_proxy"), "Pr0");
    }
}

void user_agent_override(void** /*state*/) {
    assert_string_equal(ok(base_with("user_agent = corp-pam/1.0\n")).user_agent.c_str(), "corp-pam/1.0");
    expect_error_at(base_with("user_agent =\n"), 4, "user_agent");
}

void debug_value(void** /*state*/) {
    assert_true(ok(base_with("debug = yes\n")).debug);
    assert_false(ok(base_with("debug = no\n")).debug);
}

// --- booleans -----------------------------------------------------------------------------

void booleans_all_spellings(void** /*state*/) {
    const struct {
        const char* word;
        bool value;
    } cases[] = {{"yes", true},  {"no", false},    {"true", true}, {"false", false}, {"on", true},
                 {"off", false}, {"1", true},      {"0", false},   {"YES", true},    {"No", false},
                 {"True", true}, {"FALSE", false}, {"On", true},   {"OFF", false}};
    for (const auto& c : cases) {
        const Config config = ok(base_with(std::string("debug = ") + c.word + "\ntls_verify = " + c.word + "\n"));
        if (config.debug != c.value || config.tls_verify != c.value) {
            fail_msg("'%s' read as %d", c.word, config.debug);
        }
    }
}

void booleans_other_words_refused(void** /*state*/) {
    for (const char* v : {"y", "n", "2", "enabled", "yes please", "", "-1", "nope"}) {
        const std::string m = expect_error_at(base_with(std::string("echo_code = ") + v + "\n"), 4, "echo_code");
        check_contains(m, "yes or no");
    }
}

// ============================================================================
// Syntax (pam_fac.conf(5))
// ============================================================================

void comments_and_blank_lines(void** /*state*/) {
    const Config c =
        ok("# pam_fac\n"
           "; another comment style\n"
           "\n"
           "   # indented comment\n"
           "\t; indented too\n"
           "   \t  \n"
           "server = https://fac.example.com\n"
           "#server = https://commented.example.com\n"
           "api_user = pam\n"
           ";tries = 99\n"
           "api_key = k3y\n");
    assert_int_equal(c.servers.size(), 1);
    assert_int_equal(c.tries, 3);
}

void whitespace_trimmed(void** /*state*/) {
    const Config c =
        ok("  server   =   https://fac.example.com  \n"
           "\tapi_user\t=\tpam\t\n"
           "api_key=k3y\n"
           "realm =  corp  \n");
    assert_string_equal(c.servers[0].c_str(), "https://fac.example.com");
    assert_string_equal(c.api_user.c_str(), "pam");
    assert_true(c.api_key.view() == "k3y");
    assert_string_equal(c.realm.c_str(), "corp");
}

void quoted_values_keep_edge_whitespace(void** /*state*/) {
    const Config c = ok(base_with("realm = \"  spaced realm \"\npush_message = \"\"\n"));
    assert_string_equal(c.realm.c_str(), "  spaced realm ");
    assert_string_equal(c.push_message.c_str(), "");
}

void quoted_value_may_hold_quotes_and_hash(void** /*state*/) {
    const Config c = ok(base_with("push_message = \"say \"hi\" # not a comment\"\n"));
    assert_string_equal(c.push_message.c_str(), "say \"hi\" # not a comment");
}

void value_may_contain_equals(void** /*state*/) {
    assert_string_equal(ok(base_with("push_message = a=b = c\n")).push_message.c_str(), "a=b = c");
}

void crlf_lines_accepted(void** /*state*/) {
    const Config c =
        ok("# windows\r\nserver = https://fac.example.com/\r\napi_user = pam\r\napi_key = k3y\r\n"
           "\r\ntries = 4\r\nrealm = \"r \"\r\n");
    assert_string_equal(c.servers[0].c_str(), "https://fac.example.com");
    assert_string_equal(c.api_user.c_str(), "pam");
    assert_true(c.api_key.view() == "k3y");
    assert_int_equal(c.tries, 4);
    assert_string_equal(c.realm.c_str(), "r ");
}

void crlf_error_line_numbers(void** /*state*/) {
    expect_error_at("server = https://fac.example.com\r\napi_user = pam\r\n\r\napi_key = k3y\r\nbogus = 1\r\n", 5,
                    "bogus");
}

void last_line_without_newline(void** /*state*/) {
    assert_int_equal(ok(kBase + "tries = 7").tries, 7);
}

void empty_file_misses_server(void** /*state*/) {
    const Loaded r = load("");
    const std::string m = error_of(r);
    check_contains(m, r.path);
    check_contains(m, "server");
}

// --- syntax errors name file:line -------------------------------------------------------

void unknown_key_names_line(void** /*state*/) {
    const std::string m = expect_error_at(base_with("# typo below\nsecond_facter = push\n"), 5, "second_facter");
    check_contains(m, "unknown key");
}

void key_case_matters(void** /*state*/) {
    expect_error_at(base_with("Tries = 3\n"), 4, "Tries");
}

void missing_equals_names_line(void** /*state*/) {
    expect_error_at("server = https://fac.example.com\napi_user pam\napi_key = k3y\n", 2, "=");
}

void empty_key_names_line(void** /*state*/) {
    expect_error_at(base_with("\n = value\n"), 5, "key");
}

void unterminated_quote_names_line(void** /*state*/) {
    expect_error_at(base_with("realm = \"corp\n"), 4, "quote");
    expect_error_at(base_with("realm = \"\n"), 4, "quote");
    expect_error_at(base_with("realm = \"corp\" trailing\n"), 4, "quote");
}

void duplicate_key_names_both_lines(void** /*state*/) {
    const std::string m = expect_error_at(base_with("tries = 2\n# again\ntries = 2\n"), 6, "tries");
    check_contains(m, "duplicate");
    check_contains(m, "line 4");
}

void duplicate_required_key_refused(void** /*state*/) {
    const std::string m = expect_error_at(kBase + "server = https://fac2.example.com\n", 4, "server");
    check_contains(m, "line 1");
}

void bad_value_names_line_and_key(void** /*state*/) {
    const std::string m = expect_error_at(base_with("\n\n\ntries = lots\n"), 7, "tries");
    check_contains(m, "lots");
}

void policy_keys(void** /*state*/) {
    Config c =
        ok(base_with("groups = wheel, !admins ops\n"
                     "trusted_networks = 10.0.0.0/8 2001:db8::/32, 192.0.2.7\n"
                     "username_map = strip_domain, lowercase\n"
                     "grace_period = 300\n"));
    assert_int_equal(c.groups.size(), 2);
    assert_string_equal(c.groups[0].c_str(), "wheel");
    assert_string_equal(c.groups[1].c_str(), "ops");
    assert_int_equal(c.exempt_groups.size(), 1);
    assert_string_equal(c.exempt_groups[0].c_str(), "admins");
    assert_int_equal(c.trusted_networks.size(), 3);
    assert_int_equal(c.trusted_networks[1].prefix, 32);
    assert_int_equal(c.trusted_networks[2].prefix, 32);
    assert_int_equal(c.username_map.size(), 2);
    assert_true(c.username_map[0].kind == UsernameMapStep::Kind::StripDomain);
    assert_true(c.username_map[1].kind == UsernameMapStep::Kind::Lowercase);
    assert_int_equal(c.grace_period_s, 300);
    c = ok(base_with("username_map = none\n"));
    assert_true(c.username_map.empty());
}

void policy_key_errors(void** /*state*/) {
    expect_error_at(base_with("groups = wheel, !\n"), 4, "is not a group name");
    expect_error_at(base_with("trusted_networks = 10.0.0.0/33\n"), 4, "'10.0.0.0/33' is not an IPv4 or IPv6 network");
    expect_error_at(base_with("trusted_networks = jump.example.com\n"), 4, "is not an IPv4 or IPv6 network");
    expect_error_at(base_with("trusted_networks = 10.0.0.0/\n"), 4, "is not an IPv4 or IPv6 network");
    expect_error_at(base_with("username_map = upper\n"), 4, "must be none, strip_domain, lowercase");
    expect_error_at(base_with("grace_period = -1\n"), 4, "grace_period");
    expect_error_at(base_with("grace_period = 1.5\n"), 4, "grace_period");
}

void policy_keys_as_arguments(void** /*state*/) {
    const Config c = ok(kBase, {"groups=wheel", "username_map=lowercase", "grace_period=60"});
    assert_int_equal(c.groups.size(), 1);
    assert_int_equal(c.username_map.size(), 1);
    assert_true(c.username_map[0].kind == UsernameMapStep::Kind::Lowercase);
    assert_int_equal(c.grace_period_s, 60);
    expect_argument_error({"trusted_networks=nonsense"}, "trusted_networks", "not an IPv4 or IPv6 network");
}

void error_message_is_printable(void** /*state*/) {
    const std::string m = expect_error_at(base_with("ke\x1by\x7f = 1\n"), 4, "\\x1b");
    assert_false(has_control_chars(m));
}

void server_error_message_is_printable(void** /*state*/) {
    // Raw control characters (ESC, CR) or invalid UTF-8 in a server URL
    // must not reach the syslog line through the error message.
    const std::string m = expect_error_at("server = ftp://x\x1b[2J\rfake\napi_user = pam\napi_key = k\n", 1, "server");
    assert_false(has_control_chars(m));
    const std::string m2 =
        expect_error_at("api_user = pam\napi_key = k\nserver = https://fac\xff.example.com:0\n", 3, "port");
    assert_true(is_valid_utf8(m2));
}

// --- required keys and combinations ------------------------------------------------------

void missing_server_refused(void** /*state*/) {
    const Loaded r = load("api_user = pam\napi_key = k3y\n");
    const std::string m = error_of(r);
    check_contains(m, r.path);
    check_contains(m, "'server'");
}

void missing_api_user_refused(void** /*state*/) {
    const Loaded r = load("server = https://fac.example.com\napi_key = k3y\n");
    const std::string m = error_of(r);
    check_contains(m, r.path);
    check_contains(m, "'api_user'");
}

void missing_api_key_refused(void** /*state*/) {
    const Loaded r = load("server = https://fac.example.com\napi_user = pam\n");
    const std::string m = error_of(r);
    check_contains(m, r.path);
    check_contains(m, "'api_key'");
}

void api_key_and_api_key_file_exclusive(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "fileK3y\n");
    const std::string m = expect_error_at(base_with("api_key_file = " + key + "\n"), 4, "api_key_file");
    check_contains(m, "not both");
}

void required_keys_from_arguments(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "argK3y\n");
    const Config c = ok("server = https://fac.example.com\n", {"api_user=argpam", "api_key_file=" + key});
    assert_string_equal(c.api_user.c_str(), "argpam");
    assert_true(c.api_key.view() == "argK3y");
}

// ============================================================================
// Module arguments (pam_fac(8), OPTIONS)
// ============================================================================

void conf_argument_selects_file(void** /*state*/) {
    const std::string path = new_conf("server = https://other.example.com\napi_user = pam\napi_key = k3y\n");
    Config c;
    const auto error = load_config({"conf=" + path}, 0, c);
    if (error) {
        fail_msg("%s", error->message.c_str());
    }
    assert_string_equal(c.path.c_str(), path.c_str());
    assert_string_equal(c.servers[0].c_str(), "https://other.example.com");
}

void conf_argument_must_be_absolute(void** /*state*/) {
    Config c;
    auto error = load_config({"conf=pam_fac.conf"}, 0, c);
    assert_true(error.has_value());
    check_contains(error->message, "module argument 'conf'");
    check_contains(error->message, "absolute");
    error = load_config({"conf="}, 0, c);
    assert_true(error.has_value());
    check_contains(error->message, "module argument 'conf'");
    error = load_config({"conf=./" + path_in_dir("x")}, 0, c);
    assert_true(error.has_value());
    check_contains(error->message, "absolute");
}

void default_path_used_without_conf(void** /*state*/) {
    struct stat st {};
    if (::lstat(kDefaultConfigPath, &st) == 0) {
        skip();  // an installed config would make this test depend on the machine
    }
    Config c;
    const auto error = load_config({}, 0, c);
    assert_true(error.has_value());
    check_contains(error->message, "/etc/security/pam_fac.conf");
    check_contains(error->message, "does not exist");
}

void use_first_pass_flag(void** /*state*/) {
    assert_int_equal(static_cast<int>(ok(kBase, {"use_first_pass"}).authtok_source),
                     static_cast<int>(AuthtokSource::UseFirstPass));
}

void try_first_pass_flag(void** /*state*/) {
    assert_int_equal(static_cast<int>(ok(kBase, {"try_first_pass"}).authtok_source),
                     static_cast<int>(AuthtokSource::TryFirstPass));
}

void first_pass_flags_exclusive(void** /*state*/) {
    expect_argument_error({"use_first_pass", "try_first_pass"}, "try_first_pass", "exclusive");
    expect_argument_error({"try_first_pass", "use_first_pass"}, "use_first_pass", "exclusive");
}

void forward_pass_flag(void** /*state*/) {
    assert_true(ok(kBase, {"forward_pass"}).forward_pass);
    assert_false(ok(kBase).forward_pass);
}

void debug_flag(void** /*state*/) {
    assert_true(ok(kBase, {"debug"}).debug);
    assert_true(ok(base_with("debug = no\n"), {"debug"}).debug);
    assert_false(ok(base_with("debug = yes\n"), {"debug=no"}).debug);
}

void all_flags_together(void** /*state*/) {
    const Config c = ok(kBase, {"try_first_pass", "forward_pass", "debug", "second_factor=push"});
    assert_int_equal(static_cast<int>(c.authtok_source), static_cast<int>(AuthtokSource::TryFirstPass));
    assert_true(c.forward_pass);
    assert_true(c.debug);
    assert_int_equal(static_cast<int>(c.second_factor), static_cast<int>(SecondFactor::Push));
}

void argument_overrides_file(void** /*state*/) {
    const Config c = ok(base_with("second_factor = code\ntries = 3\nrealm = file\n"),
                        {"second_factor=push", "tries=5", "realm=arg", "failmode=safe"});
    assert_int_equal(static_cast<int>(c.second_factor), static_cast<int>(SecondFactor::Push));
    assert_int_equal(c.tries, 5);
    assert_string_equal(c.realm.c_str(), "arg");
    assert_int_equal(static_cast<int>(c.failmode), static_cast<int>(FailMode::Safe));
}

void argument_overrides_server(void** /*state*/) {
    const Config c = ok(kBase, {"server=https://a.example.com,https://b.example.com/"});
    assert_int_equal(c.servers.size(), 2);
    assert_string_equal(c.servers[1].c_str(), "https://b.example.com");
}

void argument_value_may_be_empty_or_hold_equals(void** /*state*/) {
    assert_true(ok(base_with("realm = corp\n"), {"realm="}).realm.empty());
    assert_string_equal(ok(kBase, {"push_message=a=b"}).push_message.c_str(), "a=b");
}

void unknown_argument_refused(void** /*state*/) {
    expect_argument_error({"frobnicate"}, "frobnicate", "unknown");
    expect_argument_error({"nosuchkey=1"}, "nosuchkey", "unknown");
    expect_argument_error({"Debug"}, "Debug", "unknown");
    expect_argument_error({"use_first_pass=yes"}, "use_first_pass", "unknown");
}

void duplicate_argument_refused(void** /*state*/) {
    expect_argument_error({"tries=2", "tries=3"}, "tries", "twice");
    expect_argument_error({"tries=2", "tries=2"}, "tries", "twice");
    expect_argument_error({"debug", "debug=yes"}, "debug", "twice");
}

void duplicate_conf_argument_refused(void** /*state*/) {
    // A second conf= is refused like any other duplicated argument, rather
    // than the last one silently winning.
    const std::string other = new_conf(kBase);
    expect_argument_error({"conf=" + other}, "conf", "twice");
}

void argument_bad_value_names_argument(void** /*state*/) {
    expect_argument_error({"tries=0"}, "tries", "1 to 10");
    expect_argument_error({"second_factor=sms"}, "second_factor", "code_or_push");
    expect_argument_error({"connect_timeout=-1"}, "connect_timeout", "seconds");
    expect_argument_error({"server=http://fac.example.com"}, "server", "https://");
    expect_argument_error({"debug=maybe"}, "debug", "yes or no");
}

void argument_may_leave_autopush_nothing_to_do(void** /*state*/) {
    // The file's autopush applies only where a push can be offered at the
    // prompt: a sudo line's second_factor=push is no error.
    const Config c = ok(base_with("autopush = yes\n"), {"second_factor=push"});
    assert_int_equal(static_cast<int>(c.second_factor), static_cast<int>(SecondFactor::Push));
    assert_int_equal(static_cast<int>(ok(base_with("autopush = yes\nsecond_factor = code\n")).second_factor),
                     static_cast<int>(SecondFactor::Code));
}

void argument_combination_error(void** /*state*/) {
    const Loaded r = load(kBase, {"second_factor=none"});
    const std::string m = error_of(r);
    check_contains(m, "module argument 'second_factor'");
    check_contains(m, "password = yes");
}

void argument_error_with_good_file(void** /*state*/) {
    const Loaded r = load(kBase, {"tries=11"});
    check_contains(error_of(r), "module argument 'tries'");
}

// ============================================================================
// File security (pam_fac.conf(5))
// ============================================================================

void mode_0600_accepted(void** /*state*/) {
    const Loaded r = load_path(new_conf(kBase, 0600));
    assert_false(r.error.has_value());
}

void mode_0400_accepted(void** /*state*/) {
    const Loaded r = load_path(new_conf(kBase, 0400));
    assert_false(r.error.has_value());
}

void missing_file_does_not_exist(void** /*state*/) {
    const std::string path = new_name("absent.conf");
    const Loaded r = load_path(path);
    const std::string m = error_of(r);
    check_contains(m, path);
    check_contains(m, "does not exist");
}

void symlink_refused(void** /*state*/) {
    const std::string target = new_conf(kBase);
    const std::string link = new_name("link.conf");
    assert_int_equal(::symlink(target.c_str(), link.c_str()), 0);
    const Loaded r = load_path(link);
    const std::string m = error_of(r);
    check_contains(m, link);
    check_contains(m, "symbolic link");
}

void dangling_symlink_refused(void** /*state*/) {
    const std::string link = new_name("dangling.conf");
    assert_int_equal(::symlink(new_name("nowhere").c_str(), link.c_str()), 0);
    check_contains(error_of(load_path(link)), link);
}

void directory_refused(void** /*state*/) {
    const std::string dir = new_name("dir.conf");
    assert_int_equal(::mkdir(dir.c_str(), 0700), 0);
    const std::string m = error_of(load_path(dir));
    check_contains(m, dir);
    check_contains(m, "not a regular file");
}

void fifo_refused(void** /*state*/) {
    // Must not block waiting for a writer either.
    const std::string fifo = new_name("fifo.conf");
    assert_int_equal(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string m = error_of(load_path(fifo));
    check_contains(m, fifo);
    check_contains(m, "not a regular file");
}

void device_refused(void** /*state*/) {
    check_contains(error_of(load_path("/dev/null")), "not a regular file");
}

void foreign_owner_refused(void** /*state*/) {
    const std::string path = new_conf(kBase);
    assert_int_equal(::chown(path.c_str(), kOtherUid, 0), 0);
    const std::string m = error_of(load_path(path, {}, 0));
    check_contains(m, path);
    check_contains(m, "owned by uid 12345");
    // Another unprivileged uid is refused too.
    check_contains(error_of(load_path(path, {}, kOtherUid + 1)), "owned by uid 12345");
}

void owner_euid_accepted(void** /*state*/) {
    const std::string path = new_conf(kBase);
    assert_int_equal(::chown(path.c_str(), kOtherUid, kOtherUid), 0);
    const Loaded r = load_path(path, {}, kOtherUid);
    if (r.error) {
        fail_msg("%s", r.error->message.c_str());
    }
}

void root_owner_accepted_for_any_euid(void** /*state*/) {
    const Loaded r = load_path(new_conf(kBase), {}, kOtherUid);
    if (r.error) {
        fail_msg("%s", r.error->message.c_str());
    }
}

void group_writable_refused(void** /*state*/) {
    const std::string path = new_conf(kBase, 0620);
    const std::string m = error_of(load_path(path));
    check_contains(m, path);
    check_contains(m, "writable");
    check_contains(m, "0620");
}

void other_writable_refused(void** /*state*/) {
    const std::string m = error_of(load_path(new_conf(kBase, 0602)));
    check_contains(m, "writable");
}

void group_readable_refused(void** /*state*/) {
    const std::string path = new_conf(kBase, 0640);
    const std::string m = error_of(load_path(path));
    check_contains(m, path);
    check_contains(m, "readable");
    check_contains(m, "chmod 600");
}

void other_readable_refused(void** /*state*/) {
    const std::string m = error_of(load_path(new_conf(kBase, 0604)));
    check_contains(m, "readable");
}

void world_readable_0644_refused(void** /*state*/) {
    check_contains(error_of(load_path(new_conf(kBase, 0644))), "readable");
}

std::string padded_to(const std::string& head, std::size_t total) {
    std::string text = head;
    while (text.size() < total) {
        const std::size_t room = total - text.size();
        if (room == 1) {
            text += "\n";
            break;
        }
        const std::size_t len = std::min<std::size_t>(room - 1, 200);
        text += "#" + std::string(len - 1, 'x') + "\n";
    }
    return text;
}

void one_mib_file_accepted(void** /*state*/) {
    const std::string text = padded_to(kBase, 1024 * 1024);
    assert_int_equal(text.size(), 1024 * 1024);
    const Loaded r = load(text);
    if (r.error) {
        fail_msg("%s", r.error->message.c_str());
    }
}

void file_over_one_mib_refused(void** /*state*/) {
    const std::string text = padded_to(kBase, 1024 * 1024 + 1);
    assert_int_equal(text.size(), 1024 * 1024 + 1);
    const Loaded r = load(text);
    const std::string m = error_of(r);
    check_contains(m, r.path);
    check_contains(m, "larger");
}

void file_with_nul_refused(void** /*state*/) {
    std::string text = "server = https://fac.example.com\napi_user = pam";
    text += '\0';
    text += "x\napi_key = k3y\n";
    const Loaded r = load(text);
    const std::string m = error_of(r);
    check_contains(m, r.path);
    check_contains(m, "NUL");
}

// --- read_protected_file -----------------------------------------------------------------

void read_protected_file_reads_contents(void** /*state*/) {
    const std::string body = "line one\nline two\n" + std::string(10000, 'z');
    const std::string path = write_file("plain" + std::to_string(++g_counter), body);
    Secret contents("stale");
    const auto problem = read_protected_file(path, 0, 1024 * 1024, contents);
    if (problem) {
        fail_msg("%s", problem->c_str());
    }
    assert_true(contents.view() == body);
}

void read_protected_file_empty(void** /*state*/) {
    const std::string path = write_file("empty" + std::to_string(++g_counter), "");
    Secret contents("stale");
    assert_false(read_protected_file(path, 0, 100, contents).has_value());
    assert_true(contents.empty());
}

void read_protected_file_size_limit(void** /*state*/) {
    const std::string path = write_file("big" + std::to_string(++g_counter), std::string(101, 'a'));
    Secret contents;
    const auto problem = read_protected_file(path, 0, 100, contents);
    assert_true(problem.has_value());
    check_contains(*problem, path);
    check_contains(*problem, "larger than 100");
    assert_false(read_protected_file(path, 0, 101, contents).has_value());
    assert_int_equal(contents.size(), 101);
}

void read_protected_file_rules(void** /*state*/) {
    Secret contents;
    const std::string readable = write_file("r" + std::to_string(++g_counter), "x", 0604);
    check_contains(read_protected_file(readable, 0, 100, contents).value_or(""), "readable");
    const std::string writable = write_file("w" + std::to_string(++g_counter), "x", 0620);
    check_contains(read_protected_file(writable, 0, 100, contents).value_or(""), "writable");
    const std::string link = new_name("l");
    assert_int_equal(::symlink(readable.c_str(), link.c_str()), 0);
    check_contains(read_protected_file(link, 0, 100, contents).value_or(""), "symbolic link");
    check_contains(read_protected_file(new_name("none"), 0, 100, contents).value_or(""), "does not exist");
    check_contains(read_protected_file(g_dir, 0, 100, contents).value_or(""), "not a regular file");
}

// ============================================================================
// Secrets never appear in error messages
// ============================================================================

void api_key_with_control_char_not_echoed(void** /*state*/) {
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key = Sekr\x01tValue99\n", 3, "api_key");
    check_lacks(m, "Sekr");
    check_lacks(m, "tValue99");
}

void api_key_argument_not_echoed(void** /*state*/) {
    const std::string m = expect_argument_error({"api_key=ArgSekr\x1bt77"}, "api_key", "api_key");
    check_lacks(m, "ArgSekr");
}

void api_key_unterminated_quote_not_echoed(void** /*state*/) {
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key = \"QuotedSekr3t\n", 3, "quote");
    check_lacks(m, "QuotedSekr3t");
}

void api_key_without_equals_not_echoed(void** /*state*/) {
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key NoEqSekr3t\n", 3, "=");
    check_lacks(m, "NoEqSekr3t");
}

void api_key_duplicate_not_echoed(void** /*state*/) {
    const std::string m = expect_error_at(kBase + "api_key = DupSekr3t\n", 4, "duplicate");
    check_lacks(m, "DupSekr3t");
}

void api_key_file_bad_key_not_echoed(void** /*state*/) {
    const std::string key = write_file("key" + std::to_string(++g_counter), "FileSekr\x7ft88\n");
    const std::string m =
        expect_error_at("server = https://fac.example.com\napi_user = pam\napi_key_file = " + key + "\n", 3, key);
    check_lacks(m, "FileSekr");
}

void api_key_not_echoed_by_later_errors(void** /*state*/) {
    const std::string m = expect_error_at(
        "server = https://fac.example.com\napi_user = pam\napi_key = PlainSekr3t\ntries = 0\n", 4, "tries");
    check_lacks(m, "PlainSekr3t");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        // keys
        cmocka_unit_test(minimal_file_gives_defaults),
        cmocka_unit_test(default_user_agent_has_version),
        cmocka_unit_test(server_list_comma_and_space_separated),
        cmocka_unit_test(server_trailing_slash_stripped),
        cmocka_unit_test(server_ipv6_literal_with_port),
        cmocka_unit_test(server_with_prefix_path),
        cmocka_unit_test(server_ip_and_port),
        cmocka_unit_test(server_http_refused),
        cmocka_unit_test(server_http_among_https_refused),
        cmocka_unit_test(server_other_schemes_refused),
        cmocka_unit_test(server_userinfo_refused),
        cmocka_unit_test(server_query_and_fragment_refused),
        cmocka_unit_test(server_bad_port_refused),
        cmocka_unit_test(server_without_host_refused),
        cmocka_unit_test(server_bad_ipv6_refused),
        cmocka_unit_test(server_empty_refused),
        cmocka_unit_test(server_c1_control_refused),
        cmocka_unit_test(api_user_value),
        cmocka_unit_test(api_user_empty_refused),
        cmocka_unit_test(api_key_value_kept_exactly),
        cmocka_unit_test(api_key_file_first_line),
        cmocka_unit_test(api_key_file_trims_crlf_and_spaces),
        cmocka_unit_test(api_key_file_empty_first_line_refused),
        cmocka_unit_test(api_key_file_relative_path_refused),
        cmocka_unit_test(api_key_file_missing),
        cmocka_unit_test(api_key_file_group_readable_refused),
        cmocka_unit_test(api_key_file_other_writable_refused),
        cmocka_unit_test(api_key_file_foreign_owner_refused),
        cmocka_unit_test(api_key_file_symlink_refused),
        cmocka_unit_test(api_key_file_accepted_as_argument),
        cmocka_unit_test(realm_value),
        cmocka_unit_test(password_yes_no),
        cmocka_unit_test(second_factor_all_values),
        cmocka_unit_test(second_factor_bad_value_refused),
        cmocka_unit_test(second_factor_names),
        cmocka_unit_test(second_factor_none_needs_password),
        cmocka_unit_test(ftc_backend_needs_its_credentials),
        cmocka_unit_test(otp_append_with_password),
        cmocka_unit_test(otp_append_needs_password),
        cmocka_unit_test(otp_append_refused_with_push),
        cmocka_unit_test(tries_bounds_accepted),
        cmocka_unit_test(tries_out_of_bounds_refused),
        cmocka_unit_test(echo_code_value),
        cmocka_unit_test(durations_whole_seconds),
        cmocka_unit_test(durations_decimals),
        cmocka_unit_test(durations_at_maximum_accepted),
        cmocka_unit_test(durations_over_maximum_refused),
        cmocka_unit_test(durations_zero_negative_junk_refused),
        cmocka_unit_test(push_message_value),
        cmocka_unit_test(push_message_control_chars_refused),
        cmocka_unit_test(failmode_values),
        cmocka_unit_test(unknown_user_values),
        cmocka_unit_test(ca_file_and_ca_path),
        cmocka_unit_test(pinned_pubkey_format),
        cmocka_unit_test(pinned_pubkey_bad_format_refused),
        cmocka_unit_test(tls_verify_value),
        cmocka_unit_test(http_proxy_value),
        cmocka_unit_test(http_proxy_checked_when_read),
        cmocka_unit_test(http_proxy_password_never_in_errors),
        cmocka_unit_test(path_keys_must_be_absolute),
        cmocka_unit_test(invalid_utf8_refused_when_read),
        cmocka_unit_test(secrets_refused_as_arguments),
        cmocka_unit_test(secret_files_accepted_as_arguments),
        cmocka_unit_test(user_agent_override),
        cmocka_unit_test(debug_value),
        cmocka_unit_test(booleans_all_spellings),
        cmocka_unit_test(booleans_other_words_refused),
        // syntax
        cmocka_unit_test(comments_and_blank_lines),
        cmocka_unit_test(whitespace_trimmed),
        cmocka_unit_test(quoted_values_keep_edge_whitespace),
        cmocka_unit_test(quoted_value_may_hold_quotes_and_hash),
        cmocka_unit_test(value_may_contain_equals),
        cmocka_unit_test(crlf_lines_accepted),
        cmocka_unit_test(crlf_error_line_numbers),
        cmocka_unit_test(last_line_without_newline),
        cmocka_unit_test(empty_file_misses_server),
        cmocka_unit_test(unknown_key_names_line),
        cmocka_unit_test(key_case_matters),
        cmocka_unit_test(missing_equals_names_line),
        cmocka_unit_test(empty_key_names_line),
        cmocka_unit_test(unterminated_quote_names_line),
        cmocka_unit_test(duplicate_key_names_both_lines),
        cmocka_unit_test(duplicate_required_key_refused),
        cmocka_unit_test(bad_value_names_line_and_key),
        cmocka_unit_test(policy_keys),
        cmocka_unit_test(policy_key_errors),
        cmocka_unit_test(policy_keys_as_arguments),
        cmocka_unit_test(error_message_is_printable),
        cmocka_unit_test(server_error_message_is_printable),
        cmocka_unit_test(missing_server_refused),
        cmocka_unit_test(missing_api_user_refused),
        cmocka_unit_test(missing_api_key_refused),
        cmocka_unit_test(api_key_and_api_key_file_exclusive),
        cmocka_unit_test(required_keys_from_arguments),
        // module arguments
        cmocka_unit_test(conf_argument_selects_file),
        cmocka_unit_test(conf_argument_must_be_absolute),
        cmocka_unit_test(default_path_used_without_conf),
        cmocka_unit_test(use_first_pass_flag),
        cmocka_unit_test(try_first_pass_flag),
        cmocka_unit_test(first_pass_flags_exclusive),
        cmocka_unit_test(forward_pass_flag),
        cmocka_unit_test(debug_flag),
        cmocka_unit_test(all_flags_together),
        cmocka_unit_test(argument_overrides_file),
        cmocka_unit_test(argument_overrides_server),
        cmocka_unit_test(argument_value_may_be_empty_or_hold_equals),
        cmocka_unit_test(unknown_argument_refused),
        cmocka_unit_test(duplicate_argument_refused),
        cmocka_unit_test(duplicate_conf_argument_refused),
        cmocka_unit_test(argument_bad_value_names_argument),
        cmocka_unit_test(argument_may_leave_autopush_nothing_to_do),
        cmocka_unit_test(argument_combination_error),
        cmocka_unit_test(argument_error_with_good_file),
        // file security
        cmocka_unit_test(mode_0600_accepted),
        cmocka_unit_test(mode_0400_accepted),
        cmocka_unit_test(missing_file_does_not_exist),
        cmocka_unit_test(symlink_refused),
        cmocka_unit_test(dangling_symlink_refused),
        cmocka_unit_test(directory_refused),
        cmocka_unit_test(fifo_refused),
        cmocka_unit_test(device_refused),
        cmocka_unit_test(foreign_owner_refused),
        cmocka_unit_test(owner_euid_accepted),
        cmocka_unit_test(root_owner_accepted_for_any_euid),
        cmocka_unit_test(group_writable_refused),
        cmocka_unit_test(other_writable_refused),
        cmocka_unit_test(group_readable_refused),
        cmocka_unit_test(other_readable_refused),
        cmocka_unit_test(world_readable_0644_refused),
        cmocka_unit_test(one_mib_file_accepted),
        cmocka_unit_test(file_over_one_mib_refused),
        cmocka_unit_test(file_with_nul_refused),
        cmocka_unit_test(read_protected_file_reads_contents),
        cmocka_unit_test(read_protected_file_empty),
        cmocka_unit_test(read_protected_file_size_limit),
        cmocka_unit_test(read_protected_file_rules),
        // secrets
        cmocka_unit_test(api_key_with_control_char_not_echoed),
        cmocka_unit_test(api_key_argument_not_echoed),
        cmocka_unit_test(api_key_unterminated_quote_not_echoed),
        cmocka_unit_test(api_key_without_equals_not_echoed),
        cmocka_unit_test(api_key_duplicate_not_echoed),
        cmocka_unit_test(api_key_file_bad_key_not_echoed),
        cmocka_unit_test(api_key_not_echoed_by_later_errors),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

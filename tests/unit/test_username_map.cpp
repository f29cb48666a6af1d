// username_map (strip_domain, lowercase and file:PATH, in the order given)
// and fac_username = ruser: the config keys, the map file's rules, and the
// name the flow sends to FAC and logs. Files live in a mkdtemp() directory.
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "auth/flow.h"
#include "auth/username_map.h"
#include "config/config.h"
#include "core/outcome.h"
#include "fakes.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

const std::string kBase =
    "server = https://fac.example.com\n"
    "api_user = pam\n"
    "api_key = k3y\n";

std::string g_dir;
int g_counter = 0;

std::string write_file(const std::string& name, std::string_view content, mode_t mode) {
    const std::string path = g_dir + "/" + name;
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    assert_int_equal(::fchmod(fd, mode), 0);
    ::close(fd);
    return path;
}

std::string map_file(std::string_view content, mode_t mode = 0644) {
    return write_file("map" + std::to_string(++g_counter), content, mode);
}

struct Loaded {
    std::optional<ConfigError> error;
    Config config;
};

// The config file is lines 1-3 of kBase, then `extra` from line 4.
Loaded load(const std::string& extra, uid_t euid = 0) {
    Loaded r;
    const std::string conf = write_file("c" + std::to_string(++g_counter) + ".conf", kBase + extra, 0600);
    r.error = load_config({"conf=" + conf}, euid, r.config);
    return r;
}

Config ok(const std::string& extra) {
    Loaded r = load(extra);
    if (r.error) {
        fail_msg("unexpected config error: %s", r.error->message.c_str());
    }
    return std::move(r.config);
}

std::string error_of(const std::string& extra, uid_t euid = 0) {
    const Loaded r = load(extra, euid);
    if (!r.error) {
        fail_msg("config loaded, but an error was expected for: %s", extra.c_str());
    }
    return r.error->message;
}

void expect_in(const std::string& message, const std::string& needle) {
    if (message.find(needle) == std::string::npos) {
        fail_msg("'%s' does not contain '%s'", message.c_str(), needle.c_str());
    }
}

int remove_entry(const char* path, const struct stat* /*st*/, int /*flag*/, struct FTW* /*ftw*/) {
    return ::remove(path);
}

int make_dir(void** /*state*/) {
    char tmpl[] = "/tmp/pamfac-test-map-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        return -1;
    }
    g_dir = tmpl;
    return 0;
}

int remove_dir(void** /*state*/) {
    return ::nftw(g_dir.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// --- the map file ----------------------------------------------------------------------

void file_maps_listed_names_and_passes_the_rest(void** /*state*/) {
    const std::string path = map_file(
        "# local_name fac_name\n"
        "\n"
        "  alice   a.smith  \n"
        "root\talice\n"
        "bob bob.jones\r\n");
    const Config c = ok("username_map = file:" + path + "\n");
    assert_int_equal(c.username_map.size(), 1);
    assert_true(c.username_map[0].kind == UsernameMapStep::Kind::File);
    assert_string_equal(c.username_map[0].path.c_str(), path.c_str());
    assert_string_equal(map_username("alice", c.username_map).c_str(), "a.smith");
    assert_string_equal(map_username("root", c.username_map).c_str(), "alice");
    assert_string_equal(map_username("bob", c.username_map).c_str(), "bob.jones");
    assert_string_equal(map_username("carol", c.username_map).c_str(), "carol");
    assert_string_equal(map_username("Alice", c.username_map).c_str(), "Alice");  // exact names only
}

// A NUL byte would cut a name short wherever C strings take over.
void file_with_nul_bytes_is_refused(void** /*state*/) {
    const std::string path = map_file(std::string_view("alice a.smith\n\0bob bob.jones\n", 28));
    const Loaded r = load("username_map = file:" + path + "\n");
    assert_true(r.error.has_value());
    assert_non_null(std::strstr(r.error->message.c_str(), "contains NUL bytes"));
    assert_non_null(std::strstr(r.error->message.c_str(), path.c_str()));
}

void steps_apply_in_the_order_given(void** /*state*/) {
    const std::string path = map_file("alice corp.alice\nAlice upper.alice\n");
    // lowercase first: "Alice@Corp" -> "alice@corp" -> "alice" -> "corp.alice"
    Config c = ok("username_map = lowercase, strip_domain, file:" + path + "\n");
    assert_int_equal(c.username_map.size(), 3);
    assert_string_equal(map_username("Alice@Corp", c.username_map).c_str(), "corp.alice");
    // the file first: "Alice" is listed as itself, then lowercased
    c = ok("username_map = strip_domain, file:" + path + ", lowercase\n");
    assert_string_equal(map_username("Alice@Corp", c.username_map).c_str(), "upper.alice");
    // the file's answer is not mapped again by the file
    c = ok("username_map = file:" + path + " strip_domain\n");
    assert_string_equal(map_username("Alice@Corp", c.username_map).c_str(), "Alice");
}

void file_is_read_at_every_load(void** /*state*/) {
    const std::string path = map_file("alice first\n");
    Config c = ok("username_map = file:" + path + "\n");
    assert_string_equal(map_username("alice", c.username_map).c_str(), "first");
    write_file(path.substr(g_dir.size() + 1), "alice second\n", 0644);
    c = ok("username_map = file:" + path + "\n");
    assert_string_equal(map_username("alice", c.username_map).c_str(), "second");
}

void file_permissions(void** /*state*/) {
    const std::string readable = map_file("alice a\n", 0644);
    (void)ok("username_map = file:" + readable + "\n");  // world-readable is fine: no secret in it
    const std::string world_writable = map_file("alice a\n", 0646);
    std::string m = error_of("username_map = file:" + world_writable + "\n");
    expect_in(m, ".conf:4: username_map file " + world_writable + " is writable by group or others");
    const std::string group_writable = map_file("alice a\n", 0664);
    expect_in(error_of("username_map = file:" + group_writable + "\n"), ".conf:4: username_map file");
    // owned by someone other than root or the module's user
    const std::string foreign = map_file("alice a\n", 0644);
    if (::geteuid() == 0) {
        assert_int_equal(::chown(foreign.c_str(), 4242, 4242), 0);
        expect_in(error_of("username_map = file:" + foreign + "\n", 4343), "is owned by uid 4242");
    }
    const std::string link = g_dir + "/map-link" + std::to_string(++g_counter);
    assert_int_equal(::symlink(readable.c_str(), link.c_str()), 0);
    expect_in(error_of("username_map = file:" + link + "\n"), "is a symbolic link");
    expect_in(error_of("username_map = file:" + g_dir + "/missing\n"), "does not exist");
    expect_in(error_of("username_map = file:relative/map\n"), ".conf:4: username_map 'file:relative/map'");
    expect_in(error_of("username_map = file:\n"), "absolute path");
}

void file_syntax_errors_name_the_map_file_line(void** /*state*/) {
    std::string path = map_file("alice a\nbob\n");
    expect_in(error_of("username_map = file:" + path + "\n"), path + ":2: expected 'local_name fac_name'");
    path = map_file("# c\nalice a b\n");
    expect_in(error_of("username_map = file:" + path + "\n"), path + ":2: expected");
    path = map_file("alice a\nalice b\n");
    expect_in(error_of("username_map = file:" + path + "\n"), path + ":2: 'alice' is mapped twice");
    path = map_file("alice a\x01\n");
    expect_in(error_of("username_map = file:" + path + "\n"), path + ":1:");
    path = map_file("alice a, b\n");
    expect_in(error_of("username_map = file:" + path + "\n"), path + ":1:");
    expect_in(error_of("username_map = strip_domain, upper\n"), "must be none, strip_domain, lowercase or file:PATH");
}

// --- the other keys of this feature ------------------------------------------------------

void fleet_keys(void** /*state*/) {
    Config c = ok("");
    assert_true(c.fac_username == FacUsername::User);
    assert_int_equal(c.offline_grace_s, 0);
    assert_true(c.rescue_codes == RescueMode::Offline);
    assert_string_equal(c.rescue_dir.c_str(), "/var/lib/pam_fac/rescue");
    c = ok("fac_username = ruser\noffline_grace = 604800\nrescue_codes = yes\nrescue_dir = /srv/rescue\n");
    assert_true(c.fac_username == FacUsername::Ruser);
    assert_int_equal(c.offline_grace_s, 604800);
    assert_true(c.rescue_codes == RescueMode::Yes);
    assert_string_equal(c.rescue_dir.c_str(), "/srv/rescue");
    assert_true(ok("rescue_codes = no\n").rescue_codes == RescueMode::No);
    assert_true(ok("rescue_codes = OFFLINE\n").rescue_codes == RescueMode::Offline);
    expect_in(error_of("fac_username = person\n"), ".conf:4: fac_username 'person': must be one of: user, ruser");
    expect_in(error_of("offline_grace = -1\n"), ".conf:4: offline_grace");
    expect_in(error_of("offline_grace = 1.5\n"), ".conf:4: offline_grace");
    expect_in(error_of("offline_grace = 99999999\n"), ".conf:4: offline_grace");
    expect_in(error_of("rescue_codes = sometimes\n"), ".conf:4: rescue_codes 'sometimes': must be offline, yes or no");
    expect_in(error_of("rescue_dir = var/rescue\n"), ".conf:4: rescue_dir");
}

// --- the flow: whose second factor FAC is asked about -------------------------------------

struct Rig {
    Config config;
    LoginContext login = sample_login();
    ScriptedConversation conv;
    FakeBackend backend;
    ListLogger logger;

    Outcome run() {
        Flow flow(config, login, conv, backend, logger, [] { return std::time_t{1700000000}; });
        return flow.run();
    }
};

void ruser_is_asked_when_set(void** /*state*/) {
    Rig r;
    r.config.fac_username = FacUsername::Ruser;
    r.login.user = "root";
    r.login.ruser = "alice";
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(r.backend.checks.at(0).username.c_str(), "alice");
    assert_string_equal(o.fac_user.c_str(), "alice");
    const std::string line = summary_line(o, r.login);
    assert_non_null(std::strstr(line.c_str(), "result=success user=root fac_user=alice "));
}

void ruser_push_keeps_the_local_account(void** /*state*/) {
    Rig r;
    r.config.fac_username = FacUsername::Ruser;
    r.login.user = "root";
    r.login.ruser = "Alice@Corp";
    r.config.username_map = {{UsernameMapStep::Kind::StripDomain, "", {}}, {UsernameMapStep::Kind::Lowercase, "", {}}};
    r.conv.answers = {""};
    r.backend.push_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(r.backend.pushes.at(0).username.c_str(), "alice");  // ruser, then username_map
    assert_string_equal(r.backend.pushes.at(0).account.c_str(), "root");    // the account logged into
}

void without_ruser_the_user_is_asked(void** /*state*/) {
    Rig r;
    r.config.fac_username = FacUsername::Ruser;
    r.login.user = "bob";  // sshd, login: no PAM_RUSER
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_string_equal(r.backend.checks.at(0).username.c_str(), "bob");
    assert_true(o.fac_user.empty());
}

void ruser_is_ignored_with_fac_username_user(void** /*state*/) {
    Rig r;
    r.login.user = "root";
    r.login.ruser = "alice";
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::UnknownUser};
    const Outcome o = r.run();
    assert_string_equal(r.backend.checks.at(0).username.c_str(), "root");
    assert_non_null(std::strstr(summary_line(o, r.login).c_str(), "user=root rhost="));
}

void invalid_ruser_contacts_nobody(void** /*state*/) {
    Rig r;
    r.config.fac_username = FacUsername::Ruser;
    r.login.user = "root";
    r.login.ruser =
        "ali\x1b"
        "ce";
    r.conv.answers = {"123456"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::UserUnknown));
    assert_true(r.backend.checks.empty());
    assert_true(r.conv.prompts.empty());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_maps_listed_names_and_passes_the_rest),
        cmocka_unit_test(file_with_nul_bytes_is_refused),
        cmocka_unit_test(steps_apply_in_the_order_given),
        cmocka_unit_test(file_is_read_at_every_load),
        cmocka_unit_test(file_permissions),
        cmocka_unit_test(file_syntax_errors_name_the_map_file_line),
        cmocka_unit_test(fleet_keys),
        cmocka_unit_test(ruser_is_asked_when_set),
        cmocka_unit_test(ruser_push_keeps_the_local_account),
        cmocka_unit_test(without_ruser_the_user_is_asked),
        cmocka_unit_test(ruser_is_ignored_with_fac_username_user),
        cmocka_unit_test(invalid_ruser_contacts_nobody),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

// For a fleet, through the built module: fac_username = ruser (su's
// PAM_RUSER), a username_map file, offline_grace once FAC stops after a
// success, rescue codes from facctl rescue in each rescue_codes mode, and two
// processes racing for one rescue code. No code or hash in any log.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

const char* kAliceSecret = "JBSWY3DPEHPK3PXP";
int g_counter = 0;

struct Dirs {
    std::string state;
    std::string rescue;
};

// Fresh state and rescue directories for each test.
Dirs fresh_dirs() {
    ++g_counter;
    return Dirs{temp_dir() + "/state-fleet-" + std::to_string(g_counter),
                temp_dir() + "/rescue-fleet-" + std::to_string(g_counter)};
}

std::string dead_server() {
    return "https://127.0.0.1:" + std::to_string(closed_port());
}

// fac.conf for `server` (the simulator, or a dead one) with `dirs`.
std::string write_fleet_config(const std::string& server, const Dirs& dirs, const std::string& extra) {
    const std::string path = temp_dir() + "/fac.conf";
    write_file(path,
               "server = " + server + "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
                   "\nconnect_timeout = 5\ntimeout = 5\nsecond_factor = code\nstate_dir = " + dirs.state +
                   "\nrescue_dir = " + dirs.rescue + "\n" + extra + "\n",
               0600);
    return path;
}

// facctl's standard output, one entry per line.
std::vector<std::string> facctl(const std::string& args, int* status = nullptr) {
    const CommandResult run =
        run_clean(std::string(PAMFAC_FACCTL) + " " + args + " --conf " + temp_dir() + "/fac.conf");
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < run.out.size()) {
        const std::size_t end = run.out.find('\n', start);
        lines.push_back(run.out.substr(start, end == std::string::npos ? std::string::npos : end - start));
        start = end == std::string::npos ? run.out.size() : end + 1;
    }
    if (status != nullptr) {
        *status = run.exit_code;
    } else {
        assert_int_equal(run.exit_code, 0);
    }
    return lines;
}

std::vector<std::string> issue_codes(int count) {
    const auto codes = facctl("rescue issue alice --count " + std::to_string(count));
    assert_int_equal(codes.size(), static_cast<std::size_t>(count));
    return codes;
}

std::string codes_left() {
    const auto lines = facctl("rescue list alice");
    assert_int_equal(lines.size(), 1);
    return lines[0];
}

void no_secret_logged(const std::vector<std::string>& codes) {
    for (const std::string& line : syslog_lines()) {
        for (const std::string& code : codes) {
            assert_false(contains(line, code));
        }
        assert_false(contains(line, "$y$"));
    }
}

bool sent_anywhere(const std::string& code) {
    const auto log = sim_requests();
    for (const auto* request : requests_to(log, "/api/v1/")) {
        if (contains(decoded_body(*request), code)) {
            return true;
        }
    }
    return false;
}

int cleanup(void** state) {
    unsetenv("PAM_RUSER");
    return reset_environment(state);
}

// --- fac_username = ruser ------------------------------------------------------------

void su_asks_fac_about_the_person(void** /*state*/) {
    write_fleet_config(sim_url(), fresh_dirs(), "fac_username = ruser");
    setenv("PAM_RUSER", "alice", 1);  // su sets it to the caller
    PamResult r = authenticate("with_rhost", "root", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    auto log = sim_requests();
    auto auths = requests_to(log, "/api/v1/auth/");
    assert_int_equal(auths.size(), 1);
    assert_string_equal((*auths[0])["json"]["username"].GetString(), "alice");
    assert_true(contains(summary_line(), "result=success user=root fac_user=alice rhost=- method=code"));

    // No PAM_RUSER (sshd, login): the user, as before.
    reset_environment(nullptr);
    unsetenv("PAM_RUSER");
    r = authenticate("with_rhost", "alice", {totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "result=success user=alice rhost=-"));

    // fac_username = user: FAC is asked about root, whoever called su.
    reset_environment(nullptr);
    write_fleet_config(sim_url(), fresh_dirs(), "");
    setenv("PAM_RUSER", "alice", 1);
    assert_int_equal(authenticate("with_rhost", "root", {totp(kAliceSecret)}).rc, PAM_USER_UNKNOWN);
    log = sim_requests();
    auths = requests_to(log, "/api/v1/auth/");
    assert_string_equal((*auths.at(0))["json"]["username"].GetString(), "root");
}

// --- username_map = file:PATH --------------------------------------------------------

void map_file_names_the_fac_user(void** /*state*/) {
    const std::string map = temp_dir() + "/users.map";
    write_file(map, "# local_name fac_name\nroot ALICE\n", 0644);
    write_fleet_config(sim_url(), fresh_dirs(), "username_map = file:" + map + ", lowercase");
    assert_int_equal(authenticate("fac", "root", {totp(kAliceSecret)}).rc, PAM_SUCCESS);
    const auto log = sim_requests();
    assert_string_equal((*requests_to(log, "/api/v1/auth/").at(0))["json"]["username"].GetString(), "alice");
    assert_true(contains(summary_line(), "user=root fac_user=alice"));

    // Others may write it: a config error naming the config line, FAC not asked.
    reset_environment(nullptr);
    write_file(map, "root alice\n", 0666);
    assert_int_equal(authenticate("fac", "root", {totp(kAliceSecret)}).rc, PAM_SERVICE_ERR);
    const std::string line = summary_line();
    assert_true(contains(line, "result=error"));
    assert_true(contains(line, "fac.conf:10: username_map file " + map + " is writable by group or others"));
    assert_int_equal(sim_requests().Size(), 0);

    reset_environment(nullptr);
    write_file(map, "root\n", 0644);
    assert_int_equal(authenticate("fac", "root", {totp(kAliceSecret)}).rc, PAM_SERVICE_ERR);
    assert_true(contains(summary_line(), map + ":1: expected 'local_name fac_name'"));
}

// --- offline_grace -------------------------------------------------------------------

void offline_grace_after_fac_stops(void** /*state*/) {
    const Dirs dirs = fresh_dirs();
    write_fleet_config(sim_url(), dirs, "offline_grace = 3600");
    assert_int_equal(authenticate("fac", "alice", {totp(kAliceSecret)}).rc, PAM_SUCCESS);

    // FAC answers: a wrong code is still wrong.
    reset_environment(nullptr);
    assert_int_equal(authenticate("fac_ignorable", "alice", {"000000", "000001", "000002"}).rc, PAM_AUTH_ERR);

    // No server reachable: alice goes on (pam_permit decides), with a warning.
    reset_environment(nullptr);
    write_fleet_config(dead_server(), dirs, "offline_grace = 3600");
    PamResult r = authenticate("fac_ignorable", "alice", {"123456"});
    assert_int_equal(r.rc, PAM_SUCCESS);
    std::string line = summary_line();
    assert_true(contains(line, "result=ignored user=alice"));
    assert_true(contains(line, "offline_grace: FortiAuthenticator accepted alice's second factor"));
    assert_int_equal(std::atoi(line.c_str()), LOG_WARNING);

    // bob never logged in on this host: failmode's answer.
    reset_environment(nullptr);
    r = authenticate("fac_ignorable", "bob", {"123456"});
    assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
    assert_true(contains(summary_line(), "result=unavailable user=bob"));

    // The record: root-only, in state_dir.
    struct stat st {};
    assert_int_equal(stat(dirs.state.c_str(), &st), 0);
    assert_int_equal(st.st_mode & 077, 0);

    // offline_grace = 0: failmode's answer for alice too.
    reset_environment(nullptr);
    write_fleet_config(dead_server(), dirs, "");
    assert_int_equal(authenticate("fac_ignorable", "alice", {"123456"}).rc, PAM_AUTHINFO_UNAVAIL);
}

// --- rescue codes ----------------------------------------------------------------------

void rescue_codes_in_each_mode(void** /*state*/) {
    const Dirs dirs = fresh_dirs();
    write_fleet_config(sim_url(), dirs, "");
    const auto codes = issue_codes(4);
    for (const std::string& code : codes) {
        assert_true(code.size() >= 10);
    }
    assert_string_equal(codes_left().c_str(), "alice 4");
    struct stat st {};
    assert_int_equal(stat(dirs.rescue.c_str(), &st), 0);
    assert_int_equal(st.st_mode & 077, 0);

    // offline, FAC answers: the code is a failed try and is never sent.
    reset_environment(nullptr);
    PamResult r = authenticate("fac", "alice", {codes[0], totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(r.errors.at(0), "only while FortiAuthenticator cannot be reached"));
    assert_true(contains(summary_line(), "method=code"));
    assert_false(sent_anywhere(codes[0]));
    assert_string_equal(codes_left().c_str(), "alice 4");

    // offline, no server reachable: asked for a rescue code, and it works once.
    reset_environment(nullptr);
    write_fleet_config(dead_server(), dirs, "");
    r = authenticate("fac", "alice", {"123456", codes[0]});
    assert_int_equal(r.rc, PAM_SUCCESS);
    std::string line = summary_line();
    assert_true(contains(line, "result=success user=alice"));
    assert_true(contains(line, "method=rescue"));
    assert_true(contains(line, "3 rescue codes left"));
    bool warned = false;
    for (const std::string& l : syslog_lines()) {
        warned = warned || (std::atoi(l.c_str()) == LOG_WARNING && contains(l, "rescue code used by alice"));
    }
    assert_true(warned);
    assert_string_equal(codes_left().c_str(), "alice 3");
    reset_environment(nullptr);
    r = authenticate("fac", "alice", {"123456", codes[0], codes[0], codes[0]});
    assert_int_equal(r.rc, PAM_AUTH_ERR);  // used up
    assert_true(contains(summary_line(), "wrong rescue code (3 of 3 tries used)"));

    // yes: always, and FAC never sees it.
    reset_environment(nullptr);
    write_fleet_config(sim_url(), dirs, "rescue_codes = yes");
    r = authenticate("fac", "alice", {codes[1]});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_true(contains(summary_line(), "method=rescue"));
    assert_int_equal(sim_requests().Size(), 0);
    assert_string_equal(codes_left().c_str(), "alice 2");

    // no: never, neither with FAC up nor down.
    reset_environment(nullptr);
    write_fleet_config(sim_url(), dirs, "rescue_codes = no");
    r = authenticate("fac", "alice", {codes[2], totp(kAliceSecret)});
    assert_int_equal(r.rc, PAM_SUCCESS);
    assert_false(sent_anywhere(codes[2]));
    reset_environment(nullptr);
    write_fleet_config(dead_server(), dirs, "rescue_codes = no");
    assert_int_equal(authenticate("fac", "alice", {"123456", codes[2]}).rc, PAM_AUTHINFO_UNAVAIL);
    assert_string_equal(codes_left().c_str(), "alice 2");

    // revoke: gone.
    reset_environment(nullptr);
    facctl("rescue revoke alice");
    assert_string_equal(codes_left().c_str(), "alice 0");
    write_fleet_config(dead_server(), dirs, "");
    assert_int_equal(authenticate("fac", "alice", {"123456", codes[3]}).rc, PAM_AUTHINFO_UNAVAIL);
    no_secret_logged(codes);
}

void facctl_rescue_usage(void** /*state*/) {
    write_fleet_config(sim_url(), fresh_dirs(), "");
    int status = 0;
    for (const char* args : {"rescue", "rescue issue", "rescue issue alice bob", "rescue issue alice --count 0",
                             "rescue issue alice --count 101", "rescue issue alice --count x", "rescue list --count 2",
                             "rescue revoke", "rescue burn alice", "rescue issue 'al\tice'"}) {
        assert_true(facctl(args, &status).empty());
        if (status != 2) {
            fail_msg("facctl %s: status %d, expected exit 2", args, status);
        }
    }
    // Default count 10, nothing but the codes on stdout; a new issue replaces the old codes.
    const auto first = facctl("rescue issue alice");
    assert_int_equal(first.size(), 10);
    const auto second = facctl("rescue issue alice --count 2");
    assert_string_equal(codes_left().c_str(), "alice 2");
    for (const std::string& code : first) {
        assert_true(code != second[0] && code != second[1]);
    }
    assert_int_equal(facctl("rescue list").size(), 1);
    assert_true(contains(facctl("rescue --help").at(0), "Usage: facctl rescue issue USER"));
}

// A login in a process of its own (login_driver), started as run.sh starts
// the tests: pam_wrapper picks its /tmp/pam.X directory as a process loads
// it, without locking, so the process starts under the /tmp lock and
// login_driver's main() lets it go. Its stdout ("rc=N") goes to `out`.
pid_t start_login_driver(const std::vector<std::string>& args, int out) {
    const int startup_lock = open("/tmp", O_RDONLY);  // no O_CLOEXEC: the child inherits the lock
    assert_true(startup_lock >= 0);
    assert_int_equal(flock(startup_lock, LOCK_EX), 0);
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
        env_text.emplace_back(*e);
    }
    env_text.push_back("PAMFAC_WRAPPER_LOCK_FD=" + std::to_string(startup_lock));
    std::vector<char*> envp;
    for (std::string& e : env_text) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> argv_text{PAMFAC_LOGIN_DRIVER};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_text) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out, STDOUT_FILENO);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(startup_lock);
    return pid;
}

// Two logins in two processes type the same code during an outage.
void two_processes_race_for_one_code(void** /*state*/) {
    const Dirs dirs = fresh_dirs();
    write_fleet_config(dead_server(), dirs, "");
    const auto codes = issue_codes(2);
    int outs[2][2];
    pid_t pids[2];
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(pipe(outs[i]), 0);
        pids[i] = start_login_driver({"fac", "alice", "123456", codes[0], ""}, outs[i][1]);
        close(outs[i][1]);
    }
    int successes = 0;
    int unavailable = 0;
    for (int i = 0; i < 2; ++i) {
        std::string out;
        char buf[512];
        ssize_t n;
        while ((n = read(outs[i][0], buf, sizeof buf)) > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        }
        close(outs[i][0]);
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        const std::size_t at = out.find("rc=");
        assert_true(at != std::string::npos);
        const int rc = std::atoi(out.c_str() + at + 3);
        successes += rc == PAM_SUCCESS ? 1 : 0;
        unavailable += rc == PAM_AUTHINFO_UNAVAIL ? 1 : 0;
    }
    assert_int_equal(successes, 1);
    assert_int_equal(unavailable, 1);  // the loser's code was gone; it gave up at the next prompt
    assert_string_equal(codes_left().c_str(), "alice 1");
    no_secret_logged(codes);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(su_asks_fac_about_the_person, reset_environment, cleanup),
        cmocka_unit_test_setup_teardown(map_file_names_the_fac_user, reset_environment, cleanup),
        cmocka_unit_test_setup_teardown(offline_grace_after_fac_stops, reset_environment, cleanup),
        cmocka_unit_test_setup_teardown(rescue_codes_in_each_mode, reset_environment, cleanup),
        cmocka_unit_test_setup_teardown(facctl_rescue_usage, reset_environment, cleanup),
        cmocka_unit_test_setup_teardown(two_processes_race_for_one_code, reset_environment, cleanup),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}

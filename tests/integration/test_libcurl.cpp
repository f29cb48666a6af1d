// The libcurl layer as an attacker sees it, through the real module in a
// process of its own (login_driver, a PAM application that has not loaded
// libcurl, as sshd and sudo have not):
// - ca_file / ca_path replace the system trust store: a server whose
//   certificate chains to a CA of /etc/ssl/certs (here a private mount
//   namespace with another CA bind-mounted over it) is refused, by the
//   module and by facctl check;
// - no password, code, API key or Basic-auth header is left in freed heap
//   after pam_end;
// - SSLKEYLOGFILE never makes libcurl write TLS secrets, and the
//   environment is left alone while other threads read it;
// - a missing or broken libcurl is a clear error, never a crash; logins that
//   need no request never load it;
// - an http_proxy's user and password reach no log line.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../faults/sim_instance.h"
#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

faults::SimInstance g_other;  // a simulator whose certificate chains to another CA
faults::SimInstance g_ftc;    // FortiToken Cloud
std::string g_other_dir;      // that CA (ca.pem) and the simulator's certificate
std::string g_trust_dir;      // a system store that trusts only the other CA
std::string g_ca_dir;         // a CA directory (ca_path) holding the test CA

const char* kUsers = PAMFAC_SOURCE_DIR "/tests/integration/users.json";

struct Run {
    int status = -1;     // exit code; 128 + signal when killed
    std::string output;  // stdout and stderr
    int rc = -1;         // the driver's "rc=" line
};

// Runs argv in a child with `env` added to this process's environment
// (pam_wrapper and the syslog capture included), optionally with
// g_trust_dir bind-mounted over /etc/ssl/certs in a private mount namespace
// of its own: the system store changes for the child only. pam_wrapper picks
// the child's /tmp/pam.X directory as it loads, without locking, so the
// child starts under the lock other tests start under (run.sh) and keeps it
// until login_driver's main() or the child's exit.
Run run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env, bool other_system_store) {
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        const std::string key = entry.substr(0, entry.find('=') + 1);
        const bool replaced =
            std::any_of(env.begin(), env.end(), [&key](const std::string& added) { return added.rfind(key, 0) == 0; });
        if (!replaced) {
            env_text.push_back(entry);
        }
    }
    env_text.insert(env_text.end(), env.begin(), env.end());
    const int startup_lock = open("/tmp", O_RDONLY);  // no O_CLOEXEC: the child inherits the lock
    assert_true(startup_lock >= 0);
    assert_int_equal(flock(startup_lock, LOCK_EX), 0);
    env_text.push_back("PAMFAC_WRAPPER_LOCK_FD=" + std::to_string(startup_lock));
    std::vector<char*> envp;
    for (std::string& e : env_text) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (std::string& a : args) {
        argp.push_back(a.data());
    }
    argp.push_back(nullptr);
    int out[2];
    assert_int_equal(pipe(out), 0);
    std::fflush(nullptr);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        if (other_system_store &&
            (unshare(CLONE_NEWNS) != 0 || mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
             mount(g_trust_dir.c_str(), "/etc/ssl/certs", nullptr, MS_BIND, nullptr) != 0)) {
            std::perror("private mount namespace");
            _exit(126);
        }
        execve(argp[0], argp.data(), envp.data());
        _exit(127);
    }
    close(startup_lock);
    close(out[1]);
    Run r;
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) {
        r.output.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const std::size_t at = r.output.find("rc=");
    if (at != std::string::npos) {
        r.rc = std::atoi(r.output.c_str() + at + 3);
    }
    return r;
}

Run login(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
          bool other_system_store = false) {
    reset_environment(nullptr);
    std::vector<std::string> argv{PAMFAC_LOGIN_DRIVER};
    argv.insert(argv.end(), args.begin(), args.end());
    Run r = run_child(argv, env, other_system_store);
    if (r.status != 0) {
        std::fprintf(stderr, "login_driver exited with %d:\n%s\n", r.status, r.output.c_str());
        fail();
    }
    return r;
}

Run facctl_check(const std::string& conf, const std::vector<std::string>& env = {}, bool other_system_store = false) {
    return run_child({PAMFAC_FACCTL, "check", "--conf", conf}, env, other_system_store);
}

void expect_rc(const Run& r, int want, const char* what) {
    if (r.rc != want) {
        std::fprintf(stderr, "%s: PAM code %s, expected %s\n%s\n", what, pam_strerror(nullptr, r.rc),
                     pam_strerror(nullptr, want), r.output.c_str());
        for (const std::string& line : syslog_lines()) {
            std::fprintf(stderr, "  syslog: %s\n", line.c_str());
        }
        fail();
    }
}

bool logged(const std::string& needle) {
    for (const std::string& line : syslog_lines()) {
        if (contains(line, needle)) {
            return true;
        }
    }
    return false;
}

std::string conf_for(const std::string& server, const std::string& trust, const std::string& extra = "") {
    return "server = " + server + "\napi_user = apiadmin\napi_key = s3cr3t-api-key\n" + trust +
           "connect_timeout = 3\ntimeout = 5\nsecond_factor = code\nstate_dir = " + temp_dir() + "/state\n" + extra;
}

std::string alice_code() {
    return totp("JBSWY3DPEHPK3PXP");
}

// ------------------------------------------------------------------ trust

void ca_file_replaces_system_store(void** /*state*/) {
    const std::string conf = temp_dir() + "/fac.conf";
    // Controls: the namespace's system store trusts the other CA, and so
    // does ca_file naming it.
    write_file(conf, conf_for(g_other.url(), ""), 0600);
    expect_rc(login({"fac", "alice", alice_code()}, {}, true), PAM_SUCCESS, "system store, no ca_file");
    write_file(conf, conf_for(g_other.url(), "ca_file = " + g_other_dir + "/ca.pem\n"), 0600);
    expect_rc(login({"fac", "alice", alice_code()}, {}, true), PAM_SUCCESS, "ca_file naming the other CA");

    // ca_file names the test CA: the system store must not count.
    bool ok = false;
    const std::string empty = "{}";
    g_other.call("/_sim/reset", &empty, ok);
    assert_true(ok);
    write_file(conf, conf_for(g_other.url(), "ca_file = " + ca_file() + "\n"), 0600);
    expect_rc(login({"fac", "alice", alice_code()}, {}, true), PAM_AUTHINFO_UNAVAIL, "ca_file, other system store");
    assert_true(contains(summary_line(), "TLS"));
    // The same with ca_path alone: the system bundle must not count.
    write_file(conf, conf_for(g_other.url(), "ca_path = " + g_ca_dir + "\n"), 0600);
    expect_rc(login({"fac", "alice", alice_code()}, {}, true), PAM_AUTHINFO_UNAVAIL, "ca_path, other system store");
    assert_true(contains(summary_line(), "TLS"));
    // No request got through to the server of the wrong CA.
    rapidjson::Document log;
    log.Parse(g_other.call("/_sim/requests", nullptr, ok).c_str());
    assert_true(ok && !log.HasParseError());
    assert_int_equal(requests_to(log, "/api/").size(), 0);
}

void facctl_check_ca_file_replaces_system_store(void** /*state*/) {
    const std::string conf = temp_dir() + "/facctl.conf";
    write_file(conf, conf_for(g_other.url(), "ca_file = " + g_other_dir + "/ca.pem\n"), 0600);
    const Run control = facctl_check(conf, {}, true);
    if (control.status != 0) {
        std::fprintf(stderr, "control: facctl check exited with %d:\n%s\n", control.status, control.output.c_str());
        fail();
    }
    for (const std::string& trust : {"ca_file = " + ca_file() + "\n", "ca_path = " + g_ca_dir + "\n"}) {
        write_file(conf, conf_for(g_other.url(), trust), 0600);
        const Run r = facctl_check(conf, {}, true);
        if (r.status != 1 || !contains(r.output, "certificate verification failed")) {
            std::fprintf(stderr, "facctl check with %s: exit %d, expected 1 and a failed verification:\n%s\n",
                         trust.c_str(), r.status, r.output.c_str());
            fail();
        }
    }
}

// ---------------------------------------------------------------- secrets

std::string base64(const std::string& in) {
    static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = -6;
    for (const char c : in) {
        value = (value << 8) + static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 0) {
            out += chars[(value >> bits) & 63];
            bits -= 6;
        }
    }
    if (bits > -6) {
        out += chars[((value << 8) >> (bits + 8)) & 63];
    }
    while (out.size() % 4 != 0) {
        out += '=';
    }
    return out;
}

// The indexes of the needles found, from the driver's "found" lines.
std::vector<std::size_t> found_needles(const Run& r, std::size_t count) {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string line = "found " + std::to_string(i) + " ";
        const std::size_t at = r.output.find(line);
        if (at != std::string::npos) {
            std::fprintf(stderr, "needle %zu left in memory after pam_end, %d times\n", i,
                         std::atoi(r.output.c_str() + at + line.size()));
            found.push_back(i);
        }
    }
    return found;
}

void no_secret_in_freed_heap(void** /*state*/) {
    write_config("password = yes\nsecond_factor = code");
    const std::string code = alice_code();
    const std::vector<std::string> secrets = {"s3cr3t-api-key", base64("apiadmin:s3cr3t-api-key"), "alice-pw", code};
    std::vector<std::string> args = {"fac", "alice", "alice-pw", code, "--scan"};
    args.insert(args.end(), secrets.begin(), secrets.end());
    args.emplace_back("login-driver-planted-marker");
    const Run r = login(args);
    expect_rc(r, PAM_SUCCESS, "login before the heap scan");
    // Positive control: the scan finds what the process still holds.
    assert_true(contains(r.output, "found " + std::to_string(secrets.size()) + " 1\n"));
    assert_int_equal(found_needles(r, secrets.size()).size(), 0);
}

// FortiToken Cloud: the client secret goes out in /api/v1/login, the bearer
// token in every later request.
void no_ftc_secret_in_freed_heap(void** /*state*/) {
    const std::string state = temp_dir() + "/ftc-state";
    write_file(temp_dir() + "/fac.conf",
               "backend = ftc\nserver = " + g_ftc.url() +
                   "\nftc_client_id = ftc-client\nftc_client_secret = ftc-s3cr3t\nca_file = " + ca_file() +
                   "\nsecond_factor = code\nstate_dir = " + state + "\n",
               0600);
    std::string code = alice_code();
    Run r = login({"fac", "alice", code, "--scan", "ftc-s3cr3t", code, "login-driver-planted-marker"});
    expect_rc(r, PAM_SUCCESS, "FTC login");
    assert_true(contains(r.output, "found 2 1\n"));
    assert_int_equal(found_needles(r, 2).size(), 0);
    // Again with the token the first login cached.
    std::string token;
    if (DIR* d = opendir(state.c_str())) {
        while (const dirent* e = readdir(d)) {
            if (std::string(e->d_name).rfind("ftc-token-", 0) == 0) {
                std::ifstream in(state + "/" + e->d_name);
                std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                rapidjson::Document doc;
                doc.Parse(text.c_str());
                if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("access_token") &&
                    doc["access_token"].IsString()) {
                    token = doc["access_token"].GetString();
                }
            }
        }
        closedir(d);
    }
    assert_true(token.size() >= 16);
    code = alice_code();
    r = login({"fac", "alice", code, "--scan", token, code});
    expect_rc(r, PAM_SUCCESS, "FTC login with the cached token");
    assert_int_equal(found_needles(r, 2).size(), 0);
}

void keylog_file_never_opened(void** /*state*/) {
    write_config("second_factor = code");
    const std::string keylog = temp_dir() + "/keylog.txt";
    std::remove(keylog.c_str());
    const Run r = login({"fac", "alice", alice_code(), "--watch-env", "SSLKEYLOGFILE"}, {"SSLKEYLOGFILE=" + keylog});
    expect_rc(r, PAM_SUCCESS, "login with SSLKEYLOGFILE");
    struct stat st {};
    if (stat(keylog.c_str(), &st) == 0) {
        std::fprintf(stderr, "libcurl opened SSLKEYLOGFILE (%lld bytes)\n", static_cast<long long>(st.st_size));
        fail();
    }
    // The module read the environment and left it as it was, for the
    // host's other threads.
    if (!contains(r.output, "env_changes=0\n")) {
        std::fprintf(stderr, "the environment changed during the login:\n%s\n", r.output.c_str());
        fail();
    }
}

void proxy_credentials_never_logged(void** /*state*/) {
    // A port libcurl refuses: its error text quotes the proxy as written.
    for (const std::string proxy :
         {"http://pxuser:pxPassW0rd7@127.0.0.1:99999", "pxuser:pxPassW0rd7@127.0.0.1:99999"}) {
        write_config("second_factor = code\ndebug = yes\nhttp_proxy = " + proxy);
        const Run r = login({"fac", "alice", alice_code()});
        assert_int_not_equal(r.rc, PAM_SUCCESS);
        assert_false(syslog_lines().empty());
        for (const std::string& line : syslog_lines()) {
            if (contains(line, "pxPassW0rd7") || contains(line, "pxuser")) {
                std::fprintf(stderr, "proxy credentials logged: %s\n", line.c_str());
                fail();
            }
        }
    }
    // facctl check names the proxy it goes through.
    const std::string conf = write_config(
        "http_proxy = http://pxuser:pxPassW0rd7@127.0.0.1:" + std::to_string(closed_port()), "facctl.conf");
    const Run check = facctl_check(conf);
    assert_int_equal(check.status, 1);
    assert_true(contains(check.output, "done by the proxy http://***@127.0.0.1:"));
    if (contains(check.output, "pxPassW0rd7") || contains(check.output, "pxuser")) {
        std::fprintf(stderr, "facctl check shows the proxy's credentials:\n%s\n", check.output.c_str());
        fail();
    }
}

// ----------------------------------------------------------------- loading

// A caller of sudo or su sets the process's limits: a socket() that fails
// for lack of file descriptors is this process's failure, never an outage,
// so failmode = safe must not let a wrong code through.
void no_sockets_left_is_no_outage(void** /*state*/) {
    write_file(temp_dir() + "/fac.conf",
               conf_for(sim_url(), "ca_file = " + ca_file() + "\n", "failmode = safe\ntries = 1\n"), 0600);
    bool socket_refused = false;
    int sanitizer_starved = 0;
    for (int free_fds = 0; free_fds <= 6; ++free_fds) {
        reset_environment(nullptr);
        const Run r = run_child({PAMFAC_LOGIN_DRIVER, "fac", "alice", "000000", "--free-fds", std::to_string(free_fds)},
                                {}, false);
        if (kSanitized && contains(r.output, "runtime error:")) {
            // UBSan checks a vptr through a pipe(): without a free
            // descriptor it stops at the first virtual call. The plain lane
            // runs these cases.
            ++sanitizer_starved;
            continue;
        }
        if (r.status != 0) {
            fail_msg("%d free file descriptors: login_driver exited with %d\n%s", free_fds, r.status, r.output.c_str());
        }
        if (r.rc == PAM_IGNORE || r.rc == PAM_SUCCESS || r.rc == PAM_PERM_DENIED) {
            fail_msg("%d free file descriptors: a wrong code got PAM code %d\n%s", free_fds, r.rc, r.output.c_str());
        }
        socket_refused = socket_refused || logged("could not open a socket");
    }
    // The limit did reach the module's socket() (under a sanitizer: unless
    // it could not run there).
    assert_true(socket_refused || (kSanitized && sanitizer_starved > 0));
}

void libcurl_loaded_only_for_a_request(void** /*state*/) {
    write_config("second_factor = code\nno_such_key = 1");
    const Run config_error = login({"fac", "alice", alice_code()});
    expect_rc(config_error, PAM_SERVICE_ERR, "config error");
    assert_true(contains(config_error.output, "/pam_fac.so\n"));
    assert_false(contains(config_error.output, "/libcurl.so"));
    // A host in trusted_networks: no second factor, no request.
    write_config("second_factor = code\ntrusted_networks = 192.0.2.0/24");
    const Run trusted = login({"fac_ignorable", "alice", "--rhost", "192.0.2.10"});
    expect_rc(trusted, PAM_SUCCESS, "trusted network, pam_permit after pam_fac");
    assert_true(contains(trusted.output, "/pam_fac.so\n"));
    assert_false(contains(trusted.output, "/libcurl.so"));
    write_config("second_factor = code");
    const Run request = login({"fac", "alice", alice_code()});
    expect_rc(request, PAM_SUCCESS, "login with a request");
    assert_true(contains(request.output, "/libcurl.so.4"));
}

// A library that is not libcurl: libpam_misc, from libpam's directory.
std::string libpam_misc() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        const std::size_t at = line.find("/libpam.so.0");
        if (at != std::string::npos) {
            const std::size_t path = line.find('/');
            return line.substr(path, at - path) + "/libpam_misc.so.0";
        }
    }
    fail_msg("libpam.so.0 is not mapped");
    return "";
}

void missing_libcurl_is_a_clear_error(void** /*state*/) {
    const std::string lib_dir = temp_dir() + "/no-libcurl";
    mkdir(lib_dir.c_str(), 0700);
    write_config("second_factor = code");
    const std::string conf = temp_dir() + "/fac.conf";
    // Not a library at all, then a library without libcurl's functions.
    write_file(lib_dir + "/libcurl.so.4", "", 0644);
    const std::string env = "LD_LIBRARY_PATH=" + lib_dir;
    Run r = login({"fac", "alice", alice_code()}, {env});
    expect_rc(r, PAM_AUTHINFO_UNAVAIL, "libcurl.so.4 not a library");
    assert_true(logged("libcurl.so.4") && logged("file too short"));
    Run check = facctl_check(conf, {env});
    assert_int_equal(check.status, 1);
    assert_true(contains(check.output, "libcurl.so.4") && contains(check.output, "file too short"));

    assert_int_equal(run_clean("cp '" + libpam_misc() + "' '" + lib_dir + "/libcurl.so.4'").exit_code, 0);
    r = login({"fac", "alice", alice_code()}, {env});
    expect_rc(r, PAM_AUTHINFO_UNAVAIL, "libcurl.so.4 without libcurl's functions");
    assert_true(logged("libcurl.so.4") && logged("undefined symbol"));
    check = facctl_check(conf, {env});
    assert_int_equal(check.status, 1);
    assert_true(contains(check.output, "libcurl.so.4") && contains(check.output, "undefined symbol"));
}

int group_setup(void** state) {
    if (start_environment(state) != 0) {
        stop_environment(state);
        return -1;
    }
    g_other_dir = temp_dir() + "/other-ca";
    g_trust_dir = temp_dir() + "/other-system-store";
    g_ca_dir = temp_dir() + "/test-ca-dir";
    // Another CA (with a name of its own: OpenSSL looks issuers up by
    // name) and a server certificate from it for 127.0.0.1; a system store
    // trusting it (bundle and hashed directory); ca_path's form of the test CA.
    const std::string script = temp_dir() + "/other-ca.sh";
    write_file(script,
               "set -e\nmkdir -p \"$1\" \"$2\" \"$3\"\ncd \"$1\"\n"
               "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
               "-days 30 -subj '/CN=pam_fac other CA' -addext 'basicConstraints=critical,CA:TRUE' "
               "-addext 'keyUsage=critical,keyCertSign' 2>/dev/null\n"
               "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
               "-out server.csr -subj /CN=localhost 2>/dev/null\n"
               "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
               "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 7 -days 30 "
               "-extfile server.ext -out server.pem 2>/dev/null\n"
               "cp ca.pem \"$2/ca-certificates.crt\"\nopenssl rehash \"$2\"\n"
               "cp \"$4\" \"$3/test-ca.pem\"\nopenssl rehash \"$3\"\n",
               0700);
    if (!g_ftc.start(kUsers, cert_dir(), "ftc", temp_dir() + "/ftc-sim.log") ||
        run_clean("sh '" + script + "' '" + g_other_dir + "' '" + g_trust_dir + "' '" + g_ca_dir + "' '" + ca_file() +
                  "'")
                .exit_code != 0 ||
        !g_other.start(kUsers, g_other_dir, "fac", temp_dir() + "/other-sim.log")) {
        std::fprintf(stderr, "could not start the FTC simulator, make the other CA or start its simulator\n");
        g_ftc.stop();
        g_other.stop();
        stop_environment(state);
        return -1;
    }
    return 0;
}

int group_teardown(void** state) {
    g_other.stop();
    g_ftc.stop();
    return stop_environment(state);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ca_file_replaces_system_store),
        cmocka_unit_test(facctl_check_ca_file_replaces_system_store),
        cmocka_unit_test(no_secret_in_freed_heap),
        cmocka_unit_test(no_ftc_secret_in_freed_heap),
        cmocka_unit_test(keylog_file_never_opened),
        cmocka_unit_test(proxy_credentials_never_logged),
        cmocka_unit_test(no_sockets_left_is_no_outage),
        cmocka_unit_test(libcurl_loaded_only_for_a_request),
        cmocka_unit_test(missing_libcurl_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#include "harness.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
extern "C" {
#include <libpamtest.h>
}
#include <poll.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "cmocka_cpp.h"

namespace itest {
namespace {

struct Environment {
    std::string dir;
    std::string certs;
    std::string syslog;
    pid_t sim_pid = -1;
    int port = 0;
    const char* mode = "fac";
};

Environment g_env;

std::string source_path(const std::string& relative) {
    return std::string(PAMFAC_SOURCE_DIR) + "/" + relative;
}

// The environment as execve() takes it; `strings` owns the text.
std::vector<char*> envp_of(std::vector<std::string>& strings) {
    std::vector<char*> envp;
    for (std::string& s : strings) {
        envp.push_back(&s[0]);
    }
    envp.push_back(nullptr);
    return envp;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Starts the simulator and reads the "PORT <n>" line it prints once listening.
bool start_simulator() {
    std::string line;
    g_env.sim_pid =
        spawn_python({source_path("tests/sim/fac_sim.py"), "--users", source_path("tests/integration/users.json"),
                      "--cert", g_env.certs + "/server.pem", "--key", g_env.certs + "/server.key", "--port", "0",
                      "--log", g_env.dir + "/sim.log", "--mode", g_env.mode},
                     line);
    if (g_env.sim_pid < 0 || std::sscanf(line.c_str(), "PORT %d", &g_env.port) != 1) {
        std::fprintf(stderr, "simulator did not start: '%s'\n", line.c_str());
        return false;
    }
    return true;
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

// One control request; transport errors are retried, since a simulator
// under load (valgrind lane, parallel ctest) may drop a connection.
std::string http(const std::string& path, const std::string* body) {
    ControlAnswer answer;
    for (int attempt = 0; attempt < 5; ++attempt) {
        answer = control_request(sim_url(), ca_file(), path, body, 20);
        if (answer.curl_code == CURLE_OK) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (answer.curl_code != CURLE_OK || answer.status >= 400) {
        std::fprintf(stderr, "simulator control %s failed: curl %d, HTTP %ld\n", path.c_str(), answer.curl_code,
                     answer.status);
        fail();
    }
    return answer.body;
}

std::string base64_decode(const std::string& in) {
    static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = -8;
    for (char c : in) {
        const std::size_t pos = chars.find(c);
        if (pos == std::string::npos) {
            continue;
        }
        value = (value << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 0) {
            out.push_back(static_cast<char>((value >> bits) & 0xFF));
            bits -= 8;
        }
    }
    return out;
}

}  // namespace

pid_t spawn_python(const std::vector<std::string>& args, std::string& first_line) {
    first_line.clear();
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    // An absolute argv[0]: from a bare "python3" Python would look its prefix up
    // in PATH and could load another installation's standard library.
    std::vector<char*> argv{const_cast<char*>("/usr/bin/python3")};
    for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<std::string> env = clean_environment();
    const std::vector<char*> envp = envp_of(env);
    const pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execve("/usr/bin/python3", argv.data(), envp.data());
        _exit(127);
    }
    close(out[1]);
    pollfd pfd{out[0], POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (first_line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        if (poll(&pfd, 1, 200) > 0) {
            char buf[512];
            const ssize_t n = read(out[0], buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            first_line.append(buf, static_cast<std::size_t>(n));
        }
    }
    close(out[0]);
    return pid;
}

void stop_spawned(pid_t& pid) {
    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 50; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) == pid) {
            pid = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
}

void use_ftc_simulator() {
    g_env.mode = "ftc";
}

int start_environment(void** /*state*/) {
    // pam_wrapper made this process's directory before main(): let the next
    // test start (tests/integration/run.sh), and keep the lock from the
    // programs started below.
    if (const char* lock_fd = std::getenv("PAMFAC_WRAPPER_LOCK_FD")) {
        close(std::atoi(lock_fd));
        unsetenv("PAMFAC_WRAPPER_LOCK_FD");
    }
    const char* dir = std::getenv("PAMFAC_TEST_DIR");
    const char* syslog = std::getenv("PAMFAC_TEST_SYSLOG");
    if (dir == nullptr || syslog == nullptr || std::getenv("PAM_WRAPPER") == nullptr) {
        std::fprintf(stderr, "run this test through tests/integration/run.sh (ctest does)\n");
        return -1;
    }
    g_env.dir = dir;
    g_env.certs = g_env.dir + "/certs";
    g_env.syslog = syslog;
    // Everything started from here on must run without the preloads.
    const CommandResult env = run_clean("env");
    if (contains(env.out, "LD_PRELOAD=") || contains(env.out, "PAM_WRAPPER")) {
        std::fprintf(stderr, "run_clean() passed the test's preloads on:\n%s", env.out.c_str());
        return -1;
    }
    if (run_clean("bash '" + source_path("tests/sim/make_certs.sh") + "' '" + g_env.certs + "' >&2").exit_code != 0) {
        std::fprintf(stderr, "make_certs.sh failed\n");
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    // ThreadSanitizer starts a helper thread with the process's first
    // thread: start it now, so that tests counting threads see only the
    // module's.
    std::thread([] {}).join();
    return start_simulator() ? 0 : -1;
}

int stop_environment(void** /*state*/) {
    stop_spawned(g_env.sim_pid);
    return 0;
}

int reset_environment(void** /*state*/) {
    sim_post("/_sim/reset", "{}");
    std::remove(g_env.syslog.c_str());
    unsetenv("PAM_RHOST");
    unsetenv("PAM_AUTHTOK");
    unsetenv("PAM_RUSER");
    unsetenv("PAM_TTY");
    return 0;
}

int sim_port() {
    return g_env.port;
}
std::string sim_url() {
    return "https://127.0.0.1:" + std::to_string(g_env.port);
}
std::string ca_file() {
    return g_env.certs + "/ca.pem";
}
std::string temp_dir() {
    return g_env.dir;
}
std::string cert_dir() {
    return g_env.certs;
}

void write_file(const std::string& path, const std::string& content, unsigned mode) {
    std::remove(path.c_str());
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    fchmod(fd, mode);
    close(fd);
}

std::string write_config(const std::string& extra, const std::string& name) {
    const std::string path = g_env.dir + "/" + name;
    const bool ftc = std::strcmp(g_env.mode, "ftc") == 0;
    std::string text =
        "# written by the integration tests\n"
        "server = " +
        sim_url() + "\n" +
        (ftc ? "backend = ftc\nftc_client_id = ftc-client\nftc_client_secret = ftc-s3cr3t\n"
               "poll_interval = 0.1\n"
             : "api_user = apiadmin\napi_key = s3cr3t-api-key\n") +
        "ca_file = " + ca_file() +
        "\n"
        "connect_timeout = 5\n"
        "timeout = 5\n"
        "state_dir = " +
        g_env.dir + "/state\n";
    text += extra;
    if (!extra.empty() && extra.back() != '\n') {
        text += "\n";
    }
    write_file(path, text, 0600);
    return path;
}

PamResult authenticate(const std::string& service, const std::string& user, const std::vector<std::string>& answers,
                       const std::vector<std::string>& echo_on, bool want_env) {
    constexpr std::size_t kMaxMessages = 16;
    std::vector<const char*> off;
    for (const std::string& a : answers) {
        off.push_back(a.c_str());
    }
    off.push_back(nullptr);
    std::vector<const char*> on;
    for (const std::string& a : echo_on) {
        on.push_back(a.c_str());
    }
    on.push_back(nullptr);
    static char info_buf[kMaxMessages][PAM_MAX_MSG_SIZE];
    static char err_buf[kMaxMessages][PAM_MAX_MSG_SIZE];
    char* info[kMaxMessages + 1] = {};
    char* err[kMaxMessages + 1] = {};
    std::memset(info_buf, 0, sizeof info_buf);
    std::memset(err_buf, 0, sizeof err_buf);
    for (std::size_t i = 0; i < kMaxMessages; ++i) {
        info[i] = info_buf[i];
        err[i] = err_buf[i];
    }
    pamtest_conv_data conv{};
    conv.in_echo_off = off.data();
    conv.in_echo_on = on.data();
    conv.out_info = info;
    conv.out_err = err;
    check_own_config();
    pam_testcase tests[2] = {pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS), pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS)};
    const auto start = std::chrono::steady_clock::now();
    const pamtest_err perr = _pamtest(service.c_str(), user.c_str(), &conv, tests, want_env ? 2 : 1, nullptr);
    PamResult result;
    result.ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    if (perr != PAMTEST_ERR_OK && perr != PAMTEST_ERR_CASE) {
        std::fprintf(stderr, "libpamtest failed: %s\n", pamtest_strerror(perr));
        fail();
    }
    result.rc = tests[0].op_rv;
    for (std::size_t i = 0; i < kMaxMessages; ++i) {
        if (info_buf[i][0] != '\0') {
            result.info.emplace_back(info_buf[i]);
        }
        if (err_buf[i][0] != '\0') {
            result.errors.emplace_back(err_buf[i]);
        }
    }
    if (want_env && tests[1].case_out.envlist != nullptr) {
        for (char** e = tests[1].case_out.envlist; *e != nullptr; ++e) {
            result.env.emplace_back(*e);
        }
        pamtest_free_env(tests[1].case_out.envlist);
    }
    check_own_config();
    return result;
}

std::string sim_post(const std::string& path, const std::string& json_body) {
    return http(path, &json_body);
}

rapidjson::Document sim_requests() {
    rapidjson::Document doc;
    const std::string text = http("/_sim/requests", nullptr);
    doc.Parse(text.c_str());
    assert_false(doc.HasParseError());
    assert_true(doc.IsArray());
    return doc;
}

std::vector<const rapidjson::Value*> requests_to(const rapidjson::Document& log, const std::string& prefix) {
    std::vector<const rapidjson::Value*> found;
    for (const auto& entry : log.GetArray()) {
        const std::string path = entry["path"].GetString();
        if (path.compare(0, prefix.size(), prefix) == 0) {
            found.push_back(&entry);
        }
    }
    return found;
}

std::string decoded_body(const rapidjson::Value& request) {
    return base64_decode(request["body_b64"].GetString());
}

std::string totp(const std::string& base32_secret, int step_offset, int digits) {
    const long now = static_cast<long>(std::time(nullptr)) + 30L * step_offset;
    const std::string command = "oathtool --totp -b -d " + std::to_string(digits) + " --now=@" + std::to_string(now) +
                                " '" + base32_secret + "' 2>/dev/null";
    const CommandResult r = run_clean(command);
    assert_int_equal(r.exit_code, 0);
    std::string code = r.out;
    while (!code.empty() && (code.back() == '\n' || code.back() == '\r')) {
        code.pop_back();
    }
    return code;
}

std::vector<std::string> syslog_lines() {
    std::vector<std::string> lines;
    std::ifstream in(g_env.syslog);
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
    }
    return lines;
}

std::vector<std::string> summary_lines() {
    std::vector<std::string> found;
    for (const std::string& line : syslog_lines()) {
        if (contains(line, "pam_fac(") && contains(line, " result=")) {
            found.push_back(line);
        }
    }
    return found;
}

std::string summary_line() {
    const std::vector<std::string> found = summary_lines();
    if (found.size() != 1) {
        std::fprintf(stderr, "expected one summary line, found %zu\n", found.size());
        for (const std::string& line : syslog_lines()) {
            std::fprintf(stderr, "  syslog: %s\n", line.c_str());
        }
        fail();
    }
    return found.front();
}

std::vector<std::string> clean_environment() {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry(*e);
        if (entry.rfind("LD_PRELOAD=", 0) != 0 && entry.rfind("PAM_WRAPPER", 0) != 0) {
            env.push_back(entry);
        }
    }
    return env;
}

CommandResult run_clean(const std::string& command, const std::vector<std::string>& extra_env) {
    CommandResult result;
    int out[2];
    if (pipe(out) != 0) {
        return result;
    }
    std::vector<std::string> env = clean_environment();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    const std::vector<char*> envp = envp_of(env);
    const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return result;
    }
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
        _exit(127);
    }
    close(out[1]);
    char buf[4096];
    ssize_t n = 0;
    while ((n = read(out[0], buf, sizeof buf)) > 0) {
        result.out.append(buf, static_cast<std::size_t>(n));
    }
    close(out[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    }
    return result;
}

// The test process, whose pam_wrapper directory its forked children share.
const pid_t g_test_pid = getpid();

void check_own_config() {
    const std::string own = g_env.dir + "/";
    const char* runtime = std::getenv("PAM_WRAPPER_RUNTIME_DIR");
    bool ok = runtime != nullptr;
    if (ok) {
        const std::string pid = read_text(std::string(runtime) + "/pid");
        const std::string stack = read_text(std::string(runtime) + "/fac");
        const long owner = std::atol(pid.c_str());
        ok = (owner == static_cast<long>(getpid()) || owner == static_cast<long>(g_test_pid)) &&
             contains(stack, "conf=" + own);
        if (!ok) {
            std::fprintf(stderr, "pam_wrapper directory %s is not this test's: pid file '%s', stack '%s'\n", runtime,
                         pid.c_str(), stack.c_str());
        }
    } else {
        std::fprintf(stderr, "PAM_WRAPPER_RUNTIME_DIR is not set: is pam_wrapper preloaded?\n");
    }
    for (const std::string& line : syslog_lines()) {
        const std::size_t at = line.find(" conf=/");
        if (at != std::string::npos && line.compare(at + 6, own.size(), own) != 0) {
            std::fprintf(stderr, "the module read a config outside %s: %s\n", own.c_str(), line.c_str());
            ok = false;
        }
    }
    if (!ok) {
        fail();
    }
}

ControlAnswer control_request(const std::string& base_url, const std::string& ca, const std::string& path,
                              const std::string* json_body, long timeout_s) {
    ControlAnswer answer;
    CURL* h = curl_easy_init();
    const std::string url = base_url + path;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body);
    if (json_body != nullptr) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body->c_str());
    }
    answer.curl_code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return answer;
}

bool on_valgrind() {
    return RUNNING_ON_VALGRIND != 0;
}

long scaled_ms(long ms) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    constexpr long kSanitizerFactor = 3;
#else
    constexpr long kSanitizerFactor = 1;
#endif
    return ms * (on_valgrind() ? 10 : kSanitizerFactor);
}

int closed_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace itest

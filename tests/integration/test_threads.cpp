// Many authentications at once in one process, as in a threaded PAM
// application (a VPN or RADIUS daemon): 32 threads, each running complete
// pam_start / pam_authenticate / pam_end cycles through real libpam (under
// pam_wrapper) with its own conversation, against the simulator. Each
// thread is its own user; cycles mix valid codes (oathtool output computed
// beforehand), wrong codes, malformed codes (never sent) and pushes. Every
// result must be right, and the simulator must have seen exactly the
// requests each thread made, under its own username. Also run in the ASan
// lane (check-asan) and, with fewer cycles, under valgrind.
#include <dlfcn.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace itest;

namespace {

constexpr int kThreads = 32;
constexpr int kSteps = 8;  // TOTP steps computed ahead: 4 minutes

enum class Kind { Code, WrongCode, Malformed, Push };

struct Conversation {
    std::vector<std::string> answers;
    std::size_t next = 0;
    std::vector<std::string> infos;
    std::vector<std::string> errors;
};

extern "C" int converse(int n, const pam_message** msg, pam_response** resp, void* data) {
    auto* c = static_cast<Conversation*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (replies == nullptr) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < n; ++i) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            if (c->next >= c->answers.size()) {
                for (int k = 0; k < i; ++k) {
                    std::free(replies[k].resp);
                }
                std::free(replies);
                return PAM_CONV_ERR;
            }
            replies[i].resp = strdup(c->answers[c->next++].c_str());
            break;
        case PAM_TEXT_INFO:
            c->infos.emplace_back(msg[i]->msg);
            break;
        case PAM_ERROR_MSG:
            c->errors.emplace_back(msg[i]->msg);
            break;
        default:
            break;
        }
    }
    *resp = replies;
    return PAM_SUCCESS;
}

struct User {
    std::string name;
    std::string secret;
    std::vector<std::string> codes;  // codes[k]: the code of step base_step + k - 1
};

struct Tally {
    int cycles = 0;
    int wrong_results = 0;
    int successes = 0;
    int auth_requests = 0;  // /auth/ requests this thread caused
    int push_requests = 0;
    long max_ms = 0;
    std::vector<std::string> problems;
};

long g_base_step = 0;
std::atomic<int> g_in_flight{0};
std::atomic<int> g_max_in_flight{0};

std::string secret_for(int t) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string s;
    for (int i = 0; i < 16; ++i) {
        s += alphabet[(t * 7 + i * 5 + i * i) % 32];
    }
    return s;
}

// oathtool's codes for `count` steps from `first_step` on (-w prints the
// following ones too).
std::vector<std::string> codes_from(const std::string& secret, long first_step, int count) {
    const CommandResult r = run_clean("oathtool --totp -b -w " + std::to_string(count - 1) + " --now=@" +
                                      std::to_string(first_step * 30) + " " + secret);
    assert_int_equal(r.exit_code, 0);
    std::vector<std::string> codes;
    std::istringstream lines(r.out);
    std::string code;
    while (std::getline(lines, code)) {
        codes.push_back(code);
    }
    assert_int_equal(codes.size(), static_cast<std::size_t>(count));
    return codes;
}

const std::string& current_code(const User& u) {
    const long step = static_cast<long>(std::time(nullptr)) / 30;
    long k = step - g_base_step + 1;
    k = std::max(0L, std::min<long>(k, static_cast<long>(u.codes.size()) - 1));
    return u.codes[static_cast<std::size_t>(k)];
}

Kind kind_of(int thread, int cycle) {
    const int n = (thread + cycle) % 10;
    if (n == 3) {
        return Kind::WrongCode;
    }
    if (n == 6) {
        return Kind::Malformed;
    }
    if (n == 8) {
        return Kind::Push;
    }
    return Kind::Code;
}

void one_thread(const User& u, int thread, int cycles, Tally& tally) {
    for (int cycle = 0; cycle < cycles; ++cycle) {
        const Kind kind = kind_of(thread, cycle);
        Conversation conv;
        const char* service = "fac";
        int want = PAM_SUCCESS;
        switch (kind) {
        case Kind::Code:
            conv.answers = {current_code(u)};
            ++tally.auth_requests;
            break;
        case Kind::WrongCode:
            conv.answers = {current_code(u) == "000000" ? "000001" : "000000"};
            want = PAM_AUTH_ERR;
            ++tally.auth_requests;
            break;
        case Kind::Malformed:
            conv.answers = {"12a456"};
            want = PAM_AUTH_ERR;
            break;
        case Kind::Push:
            service = "fac_override";  // second_factor=push tries=1
            ++tally.push_requests;
            break;
        }
        const pam_conv pc{converse, &conv};
        pam_handle_t* pamh = nullptr;
        const auto start = std::chrono::steady_clock::now();
        int rc = pam_start(service, u.name.c_str(), &pc, &pamh);
        if (rc != PAM_SUCCESS) {
            tally.problems.push_back("pam_start: " + std::to_string(rc));
            ++tally.wrong_results;
            continue;
        }
        const int now = ++g_in_flight;
        int seen = g_max_in_flight.load();
        while (now > seen && !g_max_in_flight.compare_exchange_weak(seen, now)) {
        }
        rc = pam_authenticate(pamh, 0);
        --g_in_flight;
        pam_end(pamh, rc);
        const long ms = static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
        tally.max_ms = std::max(tally.max_ms, ms);
        ++tally.cycles;
        if (rc == PAM_SUCCESS) {
            ++tally.successes;
        }
        if (rc != want) {
            ++tally.wrong_results;
            tally.problems.push_back(u.name + " cycle " + std::to_string(cycle) + " kind " +
                                     std::to_string(static_cast<int>(kind)) + ": " + pam_strerror(pamh, rc) +
                                     " (wanted " + std::to_string(want) + ")" +
                                     (conv.errors.empty() ? "" : ", told: " + conv.errors.front()));
        }
        if (kind == Kind::Malformed &&
            (conv.errors.empty() || conv.errors[0] != "A FortiToken code is 6 to 8 digits.")) {
            ++tally.wrong_results;
            tally.problems.push_back(u.name + ": malformed code not explained");
        }
    }
}

void threads_authenticate_concurrently(void** /*state*/) {
    const bool valgrind = on_valgrind();
    const int cycles = valgrind ? 2 : 20;
    // Generous timeouts: 32 handshakes at once against a Python server on
    // a small, busy machine.
    {
        std::string text = "server = " + sim_url() +
                           "\napi_user = apiadmin\napi_key = s3cr3t-api-key\nca_file = " + ca_file() +
                           "\nconnect_timeout = 15\ntimeout = 30\npush_timeout = 30\nsecond_factor = code\n"
                           "tries = 1\nstate_dir = " +
                           temp_dir() + "/state\n";
        write_file(temp_dir() + "/fac.conf", text, 0600);
    }

    g_base_step = static_cast<long>(std::time(nullptr)) / 30;
    std::vector<User> users(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        User& u = users[static_cast<std::size_t>(t)];
        char name[32];
        std::snprintf(name, sizeof name, "thread%02d", t);
        u.name = name;
        u.secret = secret_for(t);
        u.codes = codes_from(u.secret, g_base_step - 1, kSteps);
        sim_post("/_sim/users", "{\"username\": \"" + u.name + "\", \"totp_secret\": \"" + u.secret +
                                    "\", \"push\": {\"action\": \"approve\", \"delay\": 0.05}}");
    }

    std::vector<Tally> tallies(kThreads);
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back(one_thread, std::cref(users[static_cast<std::size_t>(t)]), t, cycles,
                             std::ref(tallies[static_cast<std::size_t>(t)]));
    }
    for (std::thread& th : threads) {
        th.join();
    }
    const long total_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());

    int cycles_done = 0;
    int wrong = 0;
    int successes = 0;
    long max_ms = 0;
    for (const Tally& t : tallies) {
        cycles_done += t.cycles;
        wrong += t.wrong_results;
        successes += t.successes;
        max_ms = std::max(max_ms, t.max_ms);
        for (std::size_t i = 0; i < t.problems.size() && i < 3; ++i) {
            std::fprintf(stderr, "  %s\n", t.problems[i].c_str());
        }
    }
    std::printf(
        "threads: %d threads x %d cycles = %d authentications in %ld ms (slowest %ld ms), "
        "%d successes, up to %d in pam_authenticate at once\n",
        kThreads, cycles, cycles_done, total_ms, max_ms, successes, g_max_in_flight.load());
    assert_int_equal(cycles_done, kThreads * cycles);
    assert_int_equal(wrong, 0);
    assert_true(g_max_in_flight.load() > 1);

    // The simulator saw exactly each thread's requests, under its name.
    const auto log = sim_requests();
    std::map<std::string, int> auths;
    std::map<std::string, int> pushes;
    for (const auto& entry : log.GetArray()) {
        const std::string path = entry["path"].GetString();
        const rapidjson::Value& body = entry["json"];
        const std::string user = body.IsObject() && body.HasMember("username") && body["username"].IsString()
                                     ? body["username"].GetString()
                                     : "?";
        (path == "/api/v1/auth/" ? auths : pushes)[user]++;
    }
    int mismatches = 0;
    for (int t = 0; t < kThreads; ++t) {
        const User& u = users[static_cast<std::size_t>(t)];
        const Tally& tally = tallies[static_cast<std::size_t>(t)];
        if (auths[u.name] != tally.auth_requests || pushes[u.name] != tally.push_requests) {
            std::fprintf(stderr, "  %s: simulator saw %d code and %d push requests, thread made %d and %d\n",
                         u.name.c_str(), auths[u.name], pushes[u.name], tally.auth_requests, tally.push_requests);
            ++mismatches;
        }
    }
    assert_int_equal(mismatches, 0);
    assert_int_equal(log.Size(), [&] {
        int n = 0;
        for (const Tally& t : tallies) {
            n += t.auth_requests + t.push_requests;
        }
        return n;
    }());

    // One summary line per authentication.
    const auto summaries = summary_lines();
    int success_lines = 0;
    for (const std::string& line : summaries) {
        success_lines += contains(line, " result=success ") ? 1 : 0;
    }
    assert_int_equal(summaries.size(), kThreads * cycles);
    assert_int_equal(success_lines, successes);
}

// --- the module stays loaded ---------------------------------------------------
//
// libpam dlclose()s every module at pam_end(). pam_fac.so is linked
// NODELETE so that a long-lived host like this one loads it, and libcurl's
// tree of libraries, once rather than at every login.

void module_stays_loaded_after_pam_end(void** /*state*/) {
    write_config("second_factor = code\ntries = 1");
    assert_int_equal(authenticate("fac", "alice", {totp("JBSWY3DPEHPK3PXP")}).rc, PAM_SUCCESS);
    const char* module = std::getenv("PAMFAC_TEST_MODULE");
    assert_non_null(module);
    void* still_loaded = dlopen(module, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(still_loaded);
    dlclose(still_loaded);
}

// --- a host thread with a small stack -------------------------------------------
//
// Threaded PAM hosts often give their threads far less than the main
// thread's 8 MiB. pam_fac must not need more than the normal path does,
// whatever the server answers: a 401 whose body is 60,000 nested JSON
// arrays (under the 64 KiB cap) is one answer FAC never gives, read by
// normalise_answer_text() through RapidJSON's recursive parser.

constexpr std::size_t kSmallStack = 1024 * 1024;

struct SmallStackRun {
    std::string user;
    std::string code;
    int rc = -1;
};

extern "C" void* small_stack_main(void* arg) {
    auto* run = static_cast<SmallStackRun*>(arg);
    Conversation conv;
    conv.answers = {run->code};
    const pam_conv pc{converse, &conv};
    pam_handle_t* pamh = nullptr;
    if (pam_start("fac", run->user.c_str(), &pc, &pamh) == PAM_SUCCESS) {
        run->rc = pam_authenticate(pamh, 0);
        pam_end(pamh, run->rc);
    }
    return nullptr;
}

// Runs one authentication on a thread with a kSmallStack stack, in a child
// process (a stack overflow must not take the test down). Returns the PAM
// code, or -(signal) when the child died before it could report one.
int authenticate_on_small_stack(const std::string& user, const std::string& code) {
    std::fflush(stdout);
    std::fflush(stderr);
    int report[2];
    assert_int_equal(pipe(report), 0);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(report[0]);
        SmallStackRun run{user, code};
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, kSmallStack);
        pthread_t thread;
        if (pthread_create(&thread, &attr, small_stack_main, &run) == 0) {
            pthread_join(thread, nullptr);
            const ssize_t ignored = write(report[1], &run.rc, sizeof run.rc);
            (void)ignored;
        }
        // No exit processing: the pam_wrapper directory belongs to the parent.
        kill(getpid(), SIGKILL);
    }
    close(report[1]);
    int rc = 0;
    const ssize_t n = read(report[0], &rc, sizeof rc);
    close(report[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n == static_cast<ssize_t>(sizeof rc)) {
        return rc;
    }
    return WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
}

void small_stack_thread(void** /*state*/) {
    if (on_valgrind()) {
        // valgrind leak-checks the forked child even on SIGKILL and only
        // finds what the parent owns; stack sizes are not its business.
        std::printf("small_stack_thread: skipped under valgrind\n");
        return;
    }
    write_config("second_factor = code\ntries = 1");
    // The normal path fits.
    assert_int_equal(authenticate_on_small_stack("alice", totp("JBSWY3DPEHPK3PXP")), PAM_SUCCESS);
    // So must an answer FAC never gives.
    reset_environment(nullptr);
    write_config("second_factor = code\ntries = 1");
    sim_post("/_sim/faults",
             R"({"path": "/api/v1/auth/", "status": 401, "content_type": "application/json", "body": ")" +
                 std::string(60000, '[') + "\"}");
    const int rc = authenticate_on_small_stack("alice", totp("JBSWY3DPEHPK3PXP"));
    if (rc < 0) {
        std::fprintf(stderr, "the host thread (1 MiB stack) died of signal %d on a 401 with 60000 nested arrays\n",
                     -rc);
    }
    assert_int_equal(rc, PAM_AUTHINFO_UNAVAIL);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(module_stays_loaded_after_pam_end, reset_environment),
        cmocka_unit_test_setup(threads_authenticate_concurrently, reset_environment),
        cmocka_unit_test_setup(small_stack_thread, reset_environment),
    };
    return cmocka_run_group_tests(tests, start_environment, stop_environment);
}

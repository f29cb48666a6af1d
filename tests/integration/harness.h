// Integration harness: runs the built pam_fac.so under pam_wrapper (no
// change to /etc) against the FAC simulator on loopback, and reads what the
// module logged through a preloaded syslog capture.
#pragma once

#include <rapidjson/document.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace itest {

struct PamResult {
    int rc = -1;
    std::vector<std::string> info;
    std::vector<std::string> errors;
    std::vector<std::string> env;  // PAM environment, when asked for
    long ms = 0;
};

// Starts `/usr/bin/python3 args...` (the simulator, a fault server) in
// clean_environment(), dying with the test process even if it crashes, and
// reads the first line it prints once listening (within 15 s).
// Returns its pid, or -1.
pid_t spawn_python(const std::vector<std::string>& args, std::string& first_line);
// SIGTERM, SIGKILL after 5 s; sets `pid` to -1. Does nothing for -1.
void stop_spawned(pid_t& pid);

// Call before the group setup: the simulator plays FortiToken Cloud, and
// write_config() writes a backend = ftc config.
void use_ftc_simulator();

// cmocka group setup/teardown: certificates and simulator in the temp dir
// made by run.sh.
int start_environment(void** state);
int stop_environment(void** state);
// cmocka per-test setup: simulator reset, captured syslog cleared.
int reset_environment(void** state);

int sim_port();
std::string sim_url();  // https://127.0.0.1:<port>
std::string ca_file();
std::string temp_dir();
std::string cert_dir();

// A config file (mode 0600) with server, api_user, api_key and ca_file for
// the simulator, followed by `extra` lines. Returns its path. The stacks
// read "fac.conf".
std::string write_config(const std::string& extra, const std::string& name = "fac.conf");
void write_file(const std::string& path, const std::string& content, unsigned mode);

// The services in tests/integration/stacks/ read <temp dir>/fac.conf.

// Runs pam_authenticate through libpamtest. Echo-off prompts take
// `answers` in order; echo-on prompts take `echo_on`.
PamResult authenticate(const std::string& service, const std::string& user, const std::vector<std::string>& answers,
                       const std::vector<std::string>& echo_on = {}, bool want_env = false);

// The simulator's control API and request log.
std::string sim_post(const std::string& path, const std::string& json_body);
// One request, not retried, to the control API of the simulator at
// `base_url`: GET, or POST of `json_body` when given.
struct ControlAnswer {
    int curl_code = 0;  // CURLcode
    long status = 0;
    std::string body;
};
ControlAnswer control_request(const std::string& base_url, const std::string& ca, const std::string& path,
                              const std::string* json_body, long timeout_s);
rapidjson::Document sim_requests();
// Requests whose path starts with `prefix`.
std::vector<const rapidjson::Value*> requests_to(const rapidjson::Document& log, const std::string& prefix);
std::string decoded_body(const rapidjson::Value& request);

// The current TOTP code from oathtool (an implementation independent of
// the simulator's), `step_offset` steps away, of `digits` digits.
std::string totp(const std::string& base32_secret, int step_offset = 0, int digits = 6);

std::vector<std::string> syslog_lines();
// The summary lines ("pam_fac(...): result=..."), one per authentication.
std::vector<std::string> summary_lines();
// The one summary line; fails the test if there is not exactly one.
std::string summary_line();
// This process's environment without LD_PRELOAD (pam_wrapper, the syslog
// capture, a sanitizer runtime) and without pam_wrapper's PAM_WRAPPER*
// variables, for every program a test starts. A child with pam_wrapper
// preloaded makes a /tmp/pam.X directory of its own; pam_wrapper picks
// these names without locking and a child that execs leaves its directory
// behind, so two tests running at once could end up sharing one, each
// module reading the other test's stacks and config.
std::vector<std::string> clean_environment();

struct CommandResult {
    int exit_code = -1;  // -1 when it did not exit normally
    std::string out;     // its standard output
};
// Runs `/bin/sh -c command` in clean_environment() plus `extra_env`
// ("NAME=value" entries; never popen/system: they would start the shell
// itself with this process's preloads).
CommandResult run_clean(const std::string& command, const std::vector<std::string>& extra_env = {});

// Fails the test unless this process's pam_wrapper directory is its own
// (its pid file names this process and its stacks name this test's temp
// dir) and every config path the module logged (`conf=`, with debug) lies
// in this test's temp dir. authenticate() calls it after each login.
void check_own_config();

bool contains(const std::string& haystack, const std::string& needle);

// True under valgrind (the valgrind lane), where timings need more room.
bool on_valgrind();
// An upper bound of `ms` on a plain build, stretched for the lanes that run
// the code many times slower (ASan/TSan 3x, valgrind 10x). Only for bounds
// that catch hangs; a check of behaviour counts requests or compares with
// a configured timeout instead.
long scaled_ms(long ms);
// A loopback port nothing listens on.
int closed_port();

}  // namespace itest

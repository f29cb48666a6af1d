// Unit tests of common/state/server_health.h: a server that just failed is
// tried last for server_retry_after seconds (pam_fac.conf(5)), remembered in
// state_dir across processes; without a usable state_dir the configured
// order stands.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fakes.h"
#include "state/server_health.h"
#include "state/state_dir.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

const std::vector<std::string> kServers = {"https://fac1", "https://fac2", "https://fac3"};

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pamfac-health-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() {
        const int rc = std::system(("rm -rf '" + path + "'").c_str());
        (void)rc;  // best effort
    }
};

std::string joined(const std::vector<std::string>& servers) {
    std::string out;
    for (const std::string& s : servers) {
        out += (out.empty() ? "" : " ") + s.substr(8);
    }
    return out;
}

void configured_order_without_failures(void** /*state*/) {
    TempDir t;
    ListLogger log;
    ServerHealth health(t.path + "/state", 60, geteuid(), log);
    assert_string_equal(joined(health.order(kServers, 1000)).c_str(), "fac1 fac2 fac3");
    assert_true(log.lines.empty());
}

void failed_server_goes_last_until_retry_after(void** /*state*/) {
    TempDir t;
    ListLogger log;
    ServerHealth health(t.path + "/state", 60, geteuid(), log);
    health.order(kServers, 1000);
    health.mark_failed("https://fac1", 1000);
    assert_string_equal(joined(health.order(kServers, 1000)).c_str(), "fac2 fac3 fac1");
    assert_string_equal(joined(health.order(kServers, 1059)).c_str(), "fac2 fac3 fac1");
    assert_string_equal(joined(health.order(kServers, 1060)).c_str(), "fac1 fac2 fac3");

    // Another process (another ServerHealth on the same directory) sees it.
    health.mark_failed("https://fac2", 2000);
    ListLogger log2;
    ServerHealth other(t.path + "/state", 60, geteuid(), log2);
    assert_string_equal(joined(other.order(kServers, 2001)).c_str(), "fac1 fac3 fac2");
    other.mark_healthy("https://fac2");
    assert_string_equal(joined(health.order(kServers, 2001)).c_str(), "fac1 fac2 fac3");
}

// Health records are written without fsync (a hint): after a crash one may
// be empty or cut short, which must read as "no failure", not as one.
void empty_or_cut_record_is_no_failure(void** /*state*/) {
    TempDir t;
    ListLogger log;
    ServerHealth health(t.path + "/state", 60, geteuid(), log);
    health.order(kServers, 1000);
    health.mark_failed("https://fac1", 1000);
    assert_string_equal(joined(health.order(kServers, 1001)).c_str(), "fac2 fac3 fac1");
    for (const char* contents : {"", "-", "x1000"}) {
        const std::string dir = t.path + "/state";
        const std::string cmd = "for f in '" + dir + "'/down-*; do printf '%s' '" + contents + "' > \"$f\"; done";
        assert_int_equal(std::system(cmd.c_str()), 0);
        assert_string_equal(joined(health.order(kServers, 1001)).c_str(), "fac1 fac2 fac3");
    }
}

void all_failed_are_all_tried_in_order(void** /*state*/) {
    TempDir t;
    ListLogger log;
    ServerHealth health(t.path + "/state", 60, geteuid(), log);
    for (const std::string& s : kServers) {
        health.mark_failed(s, 1000);
    }
    assert_string_equal(joined(health.order(kServers, 1001)).c_str(), "fac1 fac2 fac3");
}

void failure_in_the_future_is_ignored(void** /*state*/) {
    // A clock set back must not bench a server for longer than retry_after.
    TempDir t;
    ListLogger log;
    ServerHealth health(t.path + "/state", 60, geteuid(), log);
    health.mark_failed("https://fac1", 5000);
    assert_string_equal(joined(health.order(kServers, 1000)).c_str(), "fac1 fac2 fac3");
}

void off_or_single_server_writes_nothing(void** /*state*/) {
    TempDir t;
    ListLogger log;
    ServerHealth off(t.path + "/state", 0, geteuid(), log);
    off.mark_failed("https://fac1", 1000);
    assert_string_equal(joined(off.order(kServers, 1000)).c_str(), "fac1 fac2 fac3");
    struct stat st {};
    assert_int_equal(::stat((t.path + "/state").c_str(), &st), -1);  // not even created

    ServerHealth on(t.path + "/state", 60, geteuid(), log);
    on.mark_failed("https://fac1", 1000);
    const std::vector<std::string> one = {"https://fac1"};
    assert_string_equal(joined(on.order(one, 1000)).c_str(), "fac1");
}

void unusable_state_dir_keeps_the_configured_order(void** /*state*/) {
    TempDir t;
    const std::string dir = t.path + "/state";
    assert_false(prepare_state_dir(dir, geteuid()).has_value());
    ::chmod(dir.c_str(), 0777);
    ListLogger log;
    ServerHealth health(dir, 60, geteuid(), log);
    health.mark_failed("https://fac1", 1000);
    assert_string_equal(joined(health.order(kServers, 1000)).c_str(), "fac1 fac2 fac3");
    // Said once per login, however often it is asked.
    assert_int_equal(log.lines.size(), 1);
    assert_true(log.lines[0].first == LogLevel::Warning);
    assert_true(log.lines[0].second.find("working without server health memory") != std::string::npos);
    assert_true(log.lines[0].second.find("chmod 700") != std::string::npos);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(configured_order_without_failures),
        cmocka_unit_test(failed_server_goes_last_until_retry_after),
        cmocka_unit_test(all_failed_are_all_tried_in_order),
        cmocka_unit_test(empty_or_cut_record_is_no_failure),
        cmocka_unit_test(failure_in_the_future_is_ignored),
        cmocka_unit_test(off_or_single_server_writes_nothing),
        cmocka_unit_test(unusable_state_dir_keeps_the_configured_order),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

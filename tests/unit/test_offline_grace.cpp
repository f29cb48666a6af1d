// offline_grace: the per-user records of FAC's last acceptance (root-only,
// atomic, expired ones removed), and that only an outage (Verdict::Outage)
// lets a recently accepted user through, with PAM_IGNORE and a warning,
// while everyone else gets failmode's answer.
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "auth/offline_grace.h"
#include "core/outcome.h"
#include "fakes.h"
#include "state/state_dir.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

constexpr long kGrace = 3600;

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pamfac-offline-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        ::nftw(
            path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
            FTW_DEPTH | FTW_PHYS);
    }
};

std::vector<std::string> records(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            if (std::strncmp(e->d_name, "offline-", 8) == 0) {
                names.emplace_back(e->d_name);
            }
        }
        ::closedir(d);
    }
    return names;
}

// --- the records -------------------------------------------------------------------------

void remembered_within_grace_only(void** /*state*/) {
    TempDir t;
    ListLogger logger;
    const std::string dir = t.path + "/state";
    OfflineGrace grace(dir, ::geteuid(), logger);
    assert_int_equal(grace.accepted_within("alice", 1000, kGrace), -1);
    grace.remember("alice", 1000, kGrace);
    assert_int_equal(grace.accepted_within("alice", 1000, kGrace), 0);
    assert_int_equal(grace.accepted_within("alice", 1000 + kGrace - 1, kGrace), kGrace - 1);
    assert_int_equal(grace.accepted_within("alice", 1000 + kGrace, kGrace), -1);  // expired
    assert_int_equal(grace.accepted_within("alice", 1500, 100), -1);              // a shorter grace in force now
    assert_int_equal(grace.accepted_within("alice", 999, kGrace), -1);            // clock set back: no proof
    assert_int_equal(grace.accepted_within("bob", 1000, kGrace), -1);
    assert_int_equal(grace.accepted_within("alice", 1000, 0), -1);  // off
    assert_true(logger.lines.empty());

    const auto names = records(dir);
    assert_int_equal(names.size(), 1);
    struct stat st {};
    assert_int_equal(::stat((dir + "/" + names[0]).c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(::stat(dir.c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
}

void expired_records_are_removed(void** /*state*/) {
    TempDir t;
    ListLogger logger;
    const std::string dir = t.path + "/state";
    OfflineGrace grace(dir, ::geteuid(), logger);
    grace.remember("alice", 1000, kGrace);
    grace.remember("bob", 2000, kGrace);
    assert_int_equal(records(dir).size(), 2);
    grace.remember("carol", 1000 + kGrace, kGrace);  // alice's has expired by now
    assert_int_equal(records(dir).size(), 2);
    assert_int_equal(grace.accepted_within("alice", 1000 + kGrace - 1, kGrace), -1);
    assert_int_equal(grace.accepted_within("bob", 2001, kGrace), 1);
    grace.remember("bob", 5000, kGrace);  // replaced, not added
    assert_int_equal(records(dir).size(), 2);
    assert_int_equal(grace.accepted_within("bob", 5000, kGrace), 0);
}

void a_record_stands_for_its_own_user_only(void** /*state*/) {
    TempDir t;
    ListLogger logger;
    const std::string dir = t.path + "/state";
    OfflineGrace grace(dir, ::geteuid(), logger);
    grace.remember("alice", 1000, kGrace);
    // bob's record name holding alice's record (a hash collision, or a copy)
    const std::string alice = state_record_name("offline-", "alice");
    const std::string bob = state_record_name("offline-", "bob");
    assert_int_equal(::link((dir + "/" + alice).c_str(), (dir + "/" + bob).c_str()), 0);
    assert_int_equal(grace.accepted_within("bob", 1000, kGrace), -1);
    assert_int_equal(grace.accepted_within("alice", 1000, kGrace), 0);
}

void unsafe_state_dir_is_not_trusted(void** /*state*/) {
    TempDir t;
    ListLogger logger;
    const std::string dir = t.path + "/state";
    OfflineGrace grace(dir, ::geteuid(), logger);
    grace.remember("alice", 1000, kGrace);
    assert_int_equal(::chmod(dir.c_str(), 0777), 0);
    assert_int_equal(grace.accepted_within("alice", 1000, kGrace), -1);
    grace.remember("bob", 1000, kGrace);
    assert_int_equal(logger.lines.size(), 1);
    assert_non_null(std::strstr(logger.lines[0].second.c_str(), "offline_grace cannot be recorded"));
    assert_int_equal(::chmod(dir.c_str(), 0700), 0);
    // A record others could write is not trusted.
    assert_int_equal(::chmod((dir + "/" + state_record_name("offline-", "alice")).c_str(), 0622), 0);
    assert_int_equal(grace.accepted_within("alice", 1000, kGrace), -1);
}

// --- through the authentication ---------------------------------------------------------

struct AllGroups final : GroupDirectory {
    std::optional<std::vector<gid_t>> group_ids_of(const std::string& /*user*/) override {
        return std::vector<gid_t>{};
    }
    std::optional<gid_t> group_id(const std::string& /*group*/) override { return gid_t{0}; }
};

struct Rig {
    TempDir dir;
    Config config;
    LoginContext login = sample_login();
    ScriptedConversation conv;
    FakeBackend backend;
    ListLogger logger;
    AllGroups groups;
    std::time_t now = 100000;

    Rig() {
        config.state_dir = dir.path + "/state";
        config.rescue_dir = dir.path + "/rescue";
        config.offline_grace_s = kGrace;
    }
    Outcome login_with(std::vector<std::string> answers, std::vector<Verdict> checks,
                       std::vector<Verdict> pushes = {}) {
        conv = ScriptedConversation{};
        conv.answers.assign(answers.begin(), answers.end());
        backend.check_verdicts.assign(checks.begin(), checks.end());
        backend.push_verdicts.assign(pushes.begin(), pushes.end());
        Authenticator a(config, login, conv, backend, logger, groups, ::geteuid(), [this] { return now; });
        return a.run();
    }
};

void accepted_user_goes_on_during_an_outage(void** /*state*/) {
    Rig r;
    assert_int_equal(static_cast<int>(r.login_with({"123456"}, {Verdict::Accepted}).status),
                     static_cast<int>(Status::Success));
    r.now += 600;
    const Outcome o = r.login_with({"123456"}, {Verdict::Outage});
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Ignore));
    assert_true(o.degraded);
    assert_int_equal(static_cast<int>(summary_level(o)), static_cast<int>(LogLevel::Warning));
    assert_non_null(std::strstr(o.reason.c_str(),
                                "offline_grace: FortiAuthenticator accepted alice's second factor "
                                "600 s ago"));
    assert_true(r.conv.errors.empty());
    // the same, reached by a push
    const Outcome pushed = r.login_with({""}, {}, {Verdict::Outage});
    assert_int_equal(static_cast<int>(pushed.status), static_cast<int>(Status::Ignore));
    // once the grace has run out, failmode decides
    r.now += kGrace;
    assert_int_equal(static_cast<int>(r.login_with({"123456"}, {Verdict::Outage}).status),
                     static_cast<int>(Status::AuthinfoUnavail));
}

void everyone_else_gets_failmodes_answer(void** /*state*/) {
    Rig r;
    (void)r.login_with({"123456"}, {Verdict::Accepted});
    r.login.user = "bob";
    Outcome o = r.login_with({"123456"}, {Verdict::Outage});
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
    assert_false(o.degraded);
    r.config.failmode = FailMode::Safe;
    o = r.login_with({"123456"}, {Verdict::Outage});
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Ignore));
    assert_non_null(std::strstr(o.reason.c_str(), "failmode = safe"));
}

void only_an_outage_counts(void** /*state*/) {
    Rig r;
    (void)r.login_with({"123456"}, {Verdict::Accepted});
    for (Verdict v : {Verdict::NotUnderstood, Verdict::TlsFailure, Verdict::ApiCredentialsRejected,
                      Verdict::LocalFailure, Verdict::PushLost}) {
        assert_int_equal(static_cast<int>(r.login_with({"123456"}, {v}).status),
                         static_cast<int>(Status::AuthinfoUnavail));
    }
    assert_int_equal(static_cast<int>(r.login_with({"1", "2", "3"}, {}).status), static_cast<int>(Status::AuthErr));
    assert_int_equal(
        static_cast<int>(r.login_with({"123456", "234567", "345678"},
                                      {Verdict::WrongCredentials, Verdict::WrongCredentials, Verdict::WrongCredentials})
                             .status),
        static_cast<int>(Status::AuthErr));
    assert_int_equal(static_cast<int>(r.login_with({""}, {}, {Verdict::PushRejected}).status),
                     static_cast<int>(Status::AuthErr));
}

void only_facs_second_factor_is_recorded(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.second_factor = SecondFactor::None;
    assert_int_equal(static_cast<int>(r.login_with({"pw"}, {Verdict::Accepted}).status),
                     static_cast<int>(Status::Success));
    assert_true(records(r.config.state_dir).empty());  // a password alone is no second factor
    r.config.password = false;
    r.config.second_factor = SecondFactor::CodeOrPush;
    r.config.offline_grace_s = 0;
    (void)r.login_with({"123456"}, {Verdict::Accepted});
    assert_true(records(r.config.state_dir).empty());  // off: nothing recorded
    r.config.offline_grace_s = kGrace;
    (void)r.login_with({""}, {}, {Verdict::Accepted});
    assert_int_equal(records(r.config.state_dir).size(), 1);
}

void any_service_counts_and_ruser_is_the_person(void** /*state*/) {
    Rig r;
    r.config.fac_username = FacUsername::Ruser;
    r.login.service = "sshd";
    (void)r.login_with({"123456"}, {Verdict::Accepted});
    r.login.service = "su";
    r.login.user = "root";
    r.login.ruser = "alice";
    assert_int_equal(static_cast<int>(r.login_with({"123456"}, {Verdict::Outage}).status),
                     static_cast<int>(Status::Ignore));
    r.login.ruser = "bob";  // root's login, but bob's second factor
    assert_int_equal(static_cast<int>(r.login_with({"123456"}, {Verdict::Outage}).status),
                     static_cast<int>(Status::AuthinfoUnavail));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(remembered_within_grace_only),
        cmocka_unit_test(expired_records_are_removed),
        cmocka_unit_test(a_record_stands_for_its_own_user_only),
        cmocka_unit_test(unsafe_state_dir_is_not_trusted),
        cmocka_unit_test(accepted_user_goes_on_during_an_outage),
        cmocka_unit_test(everyone_else_gets_failmodes_answer),
        cmocka_unit_test(only_an_outage_counts),
        cmocka_unit_test(only_facs_second_factor_is_recorded),
        cmocka_unit_test(any_service_counts_and_ruser_is_the_person),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// Who needs FAC: trusted_networks, groups, username_map and grace_period,
// and the order the Authenticator applies them in around the flow.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "auth/authenticator.h"
#include "auth/grace.h"
#include "auth/policy.h"
#include "auth/username_map.h"
#include "core/network.h"
#include "fakes.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

constexpr gid_t kWheel = 10;
constexpr gid_t kAdmins = 20;
constexpr gid_t kOps = 30;
constexpr gid_t kUsers = 100;

struct FakeGroups final : GroupDirectory {
    std::map<std::string, std::vector<gid_t>> members;  // user -> group ids
    std::map<std::string, gid_t> ids{{"wheel", kWheel}, {"admins", kAdmins}, {"ops", kOps}, {"users", kUsers}};
    int name_lookups = 0;
    std::optional<std::vector<gid_t>> group_ids_of(const std::string& user) override {
        const auto it = members.find(user);
        if (it == members.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    std::optional<gid_t> group_id(const std::string& group) override {
        ++name_lookups;
        const auto it = ids.find(group);
        return it == ids.end() ? std::nullopt : std::optional<gid_t>(it->second);
    }
};

void networks(void** /*state*/) {
    const Network v4 = *parse_network("10.1.0.0/16");
    assert_true(network_contains(v4, "10.1.2.3"));
    assert_false(network_contains(v4, "10.2.0.1"));
    assert_true(network_contains(v4, "::ffff:10.1.9.9"));  // IPv4-mapped
    assert_false(network_contains(v4, "jump.example.com"));
    assert_false(network_contains(v4, ""));
    const Network v6 = *parse_network("2001:db8::/32");
    assert_true(network_contains(v6, "2001:db8:1::5"));
    assert_false(network_contains(v6, "2001:db9::1"));
    assert_false(network_contains(v6, "10.1.2.3"));
    const Network host = *parse_network("192.0.2.7");
    assert_int_equal(host.prefix, 32);
    assert_true(network_contains(host, "192.0.2.7"));
    assert_false(network_contains(host, "192.0.2.8"));
    const Network odd = *parse_network("192.0.2.128/25");
    assert_true(network_contains(odd, "192.0.2.200"));
    assert_false(network_contains(odd, "192.0.2.127"));
    assert_true(network_contains(*parse_network("0.0.0.0/0"), "198.51.100.1"));
    assert_false(parse_network("10.0.0.0/33").has_value());
    assert_false(parse_network("10.0.0.0/-1").has_value());
    assert_false(parse_network("::/129").has_value());
    assert_false(parse_network("10.0.0/8").has_value());
}

std::string map_with(const std::string& user, bool strip_domain, bool lowercase) {
    std::vector<UsernameMapStep> steps;
    if (strip_domain) {
        steps.push_back({UsernameMapStep::Kind::StripDomain, "", {}});
    }
    if (lowercase) {
        steps.push_back({UsernameMapStep::Kind::Lowercase, "", {}});
    }
    return map_username(user, steps);
}

void usernames(void** /*state*/) {
    assert_string_equal(map_with("alice@corp", true, false).c_str(), "alice");
    assert_string_equal(map_with("CORP\\alice", true, false).c_str(), "alice");
    assert_string_equal(map_with("Alice@Corp", true, true).c_str(), "alice");
    assert_string_equal(map_with("Alice", false, true).c_str(), "alice");
    assert_string_equal(map_with("alice@corp", false, false).c_str(), "alice@corp");
    assert_string_equal(map_with("@corp", true, false).c_str(), "@corp");  // nothing left to keep
    assert_string_equal(map_with("CORP\\", true, false).c_str(), "CORP\\");
}

PolicyDecision decide(Config& c, const std::string& user, const std::string& rhost, FakeGroups& g) {
    LoginContext login;
    login.user = user;
    login.rhost = rhost;
    return decide_policy(c, login, g);
}

void groups_select_users(void** /*state*/) {
    FakeGroups g;
    g.members = {{"alice", {kUsers, kWheel}}, {"bob", {kUsers}}, {"carol", {kWheel, kAdmins}}};
    Config c;
    c.groups = {"wheel"};
    c.exempt_groups = {"admins"};
    c.groups_where = "/etc/security/pam_fac.conf:7";
    assert_int_equal(static_cast<int>(decide(c, "alice", "", g).kind), static_cast<int>(PolicyDecision::Kind::Apply));
    PolicyDecision d = decide(c, "bob", "", g);
    assert_int_equal(static_cast<int>(d.kind), static_cast<int>(PolicyDecision::Kind::Skip));
    assert_non_null(strstr(d.reason.c_str(), "none of the groups"));
    d = decide(c, "carol", "", g);  // exemption wins over membership
    assert_int_equal(static_cast<int>(d.kind), static_cast<int>(PolicyDecision::Kind::Skip));
    assert_non_null(strstr(d.reason.c_str(), "exempt group admins"));
    // No local account: cannot be judged, so FAC decides.
    assert_int_equal(static_cast<int>(decide(c, "ghost", "", g).kind), static_cast<int>(PolicyDecision::Kind::Apply));

    Config only_exempt;
    only_exempt.exempt_groups = {"admins"};
    assert_int_equal(static_cast<int>(decide(only_exempt, "bob", "", g).kind),
                     static_cast<int>(PolicyDecision::Kind::Apply));

    Config typo;
    typo.groups = {"wheeel"};
    typo.groups_where = "/etc/security/pam_fac.conf:7";
    d = decide(typo, "alice", "", g);
    assert_int_equal(static_cast<int>(d.kind), static_cast<int>(PolicyDecision::Kind::Error));
    assert_string_equal(d.reason.c_str(), "/etc/security/pam_fac.conf:7: group 'wheeel' does not exist");
}

void groups_compared_by_id(void** /*state*/) {
    // Two names for one id, as /etc/group may hold ("wheel" and "admin",
    // both 10): NSS names the id "wheel", so a comparison of names found
    // nobody in the required group "admin" and let everyone skip FAC.
    FakeGroups g;
    g.ids["admin"] = kWheel;
    g.members = {{"dave", {kUsers, kWheel}}, {"erin", {kUsers}}};
    Config c;
    c.groups = {"admin"};
    assert_int_equal(static_cast<int>(decide(c, "dave", "", g).kind), static_cast<int>(PolicyDecision::Kind::Apply));
    assert_int_equal(static_cast<int>(decide(c, "erin", "", g).kind), static_cast<int>(PolicyDecision::Kind::Skip));
    // A group id the directory has no name for still counts.
    g.members["frank"] = {kUsers, kOps};
    g.ids.erase("users");
    c.groups = {"ops"};
    assert_int_equal(static_cast<int>(decide(c, "frank", "", g).kind), static_cast<int>(PolicyDecision::Kind::Apply));
}

void configured_groups_resolved_once(void** /*state*/) {
    FakeGroups g;
    g.members = {{"alice", {kUsers, kWheel, kOps, kAdmins, 4242, 4243}}};
    Config c;
    c.groups = {"wheel", "ops"};
    c.exempt_groups = {"users"};
    g.name_lookups = 0;
    assert_int_equal(static_cast<int>(decide(c, "alice", "", g).kind), static_cast<int>(PolicyDecision::Kind::Skip));
    assert_int_equal(g.name_lookups, 3);  // one per configured name, none per group of the user
    // An exempt group that does not resolve is an error too, not skipped.
    c.exempt_groups = {"nosuch"};
    c.groups_where = "/etc/security/pam_fac.conf:9";
    const PolicyDecision d = decide(c, "alice", "", g);
    assert_int_equal(static_cast<int>(d.kind), static_cast<int>(PolicyDecision::Kind::Error));
    assert_string_equal(d.reason.c_str(), "/etc/security/pam_fac.conf:9: group 'nosuch' does not exist");
}

void system_groups_through_nss(void** /*state*/) {
    // root and its group exist on every machine this runs on.
    NssGroupDirectory nss;
    const auto gids = nss.group_ids_of("root");
    assert_true(gids.has_value());
    assert_true(std::find(gids->begin(), gids->end(), gid_t{0}) != gids->end());
    assert_true(nss.group_id("root") == std::optional<gid_t>(0));
    assert_false(nss.group_id("no-such-group-pamfac").has_value());
    assert_false(nss.group_ids_of("no-such-user-pamfac").has_value());
}

void trusted_networks_skip(void** /*state*/) {
    FakeGroups g;
    Config c;
    c.trusted_networks = {*parse_network("10.0.0.0/8")};
    assert_int_equal(static_cast<int>(decide(c, "alice", "10.9.9.9", g).kind),
                     static_cast<int>(PolicyDecision::Kind::Skip));
    assert_int_equal(static_cast<int>(decide(c, "alice", "192.0.2.1", g).kind),
                     static_cast<int>(PolicyDecision::Kind::Apply));
    // A host name is never trusted, even one that resolves inside.
    assert_int_equal(static_cast<int>(decide(c, "alice", "localhost", g).kind),
                     static_cast<int>(PolicyDecision::Kind::Apply));
    assert_int_equal(static_cast<int>(decide(c, "alice", "", g).kind), static_cast<int>(PolicyDecision::Kind::Apply));
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pamfac-policy-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() {
        const int rc = std::system(("rm -rf '" + path + "'").c_str());
        (void)rc;  // best effort
    }
};

GraceKey key(const std::string& user, const std::string& rhost, const std::string& service) {
    return GraceKey{user, rhost, service, "", ""};
}

void grace_records(void** /*state*/) {
    TempDir dir;
    ListLogger log;
    GraceRecords grace(dir.path + "/state", geteuid(), log);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.1", "sshd"), 1000, 3600), 0);
    grace.remember(key("alice", "192.0.2.1", "sshd"), 1060, 1000);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.1", "sshd"), 1000, 3600), 60);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.1", "sshd"), 1059, 3600), 1);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.1", "sshd"), 1060, 3600), 0);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.2", "sshd"), 1000, 3600), 0);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.1", "sudo"), 1000, 3600), 0);
    assert_int_equal(grace.seconds_left(key("bob", "192.0.2.1", "sshd"), 1000, 3600), 0);
    // Expired records are removed when the next one is written.
    grace.remember(key("bob", "192.0.2.9", "sshd"), 3000, 2000);
    assert_int_equal(grace.seconds_left(key("alice", "192.0.2.1", "sshd"), 1000, 3600), 0);
    assert_int_equal(grace.seconds_left(key("bob", "192.0.2.9", "sshd"), 2000, 3600), 1000);
    // A shorter grace_period now in force caps the period already running.
    assert_int_equal(grace.seconds_left(key("bob", "192.0.2.9", "sshd"), 2000, 60), 60);
}

bool logged(const ListLogger& log, const char* needle) {
    return std::any_of(log.lines.begin(), log.lines.end(),
                       [needle](const auto& line) { return line.second.find(needle) != std::string::npos; });
}

// A record that cannot be written or trusted never starts a grace period,
// and says why.
void grace_records_refuse_what_they_cannot_trust(void** /*state*/) {
    TempDir dir;
    ListLogger log;
    const std::string state = dir.path + "/state";
    GraceRecords grace(state, geteuid(), log);
    const GraceKey alice = key("alice", "192.0.2.1", "sshd");

    grace.remember(GraceKey{"al\xffice", "192.0.2.1", "sshd", "", ""}, 1060, 1000);
    assert_true(logged(log, "not UTF-8"));

    // Records that are not JSON objects, or another key's: no grace.
    grace.remember(alice, 1060, 1000);
    for (const char* contents : {"[]", "not json", "{\"user\":\"bob\",\"expires\":9999}"}) {
        const int rc =
            std::system(("for f in '" + state + "'/grace-*; do printf '%s' '" + contents + "' > \"$f\"; done").c_str());
        assert_int_equal(rc, 0);
        assert_int_equal(grace.seconds_left(alice, 1000, 3600), 0);
    }

    // Where the record should go, a directory stands: not recorded, logged.
    const int rc = std::system(("for f in '" + state + "'/grace-*; do rm -f \"$f\"; mkdir -p \"$f/x\"; done").c_str());
    assert_int_equal(rc, 0);
    log.lines.clear();
    grace.remember(alice, 1060, 1000);
    assert_true(logged(log, "grace_period not recorded"));
    assert_int_equal(grace.seconds_left(alice, 1000, 3600), 0);

    // An unsafe state_dir: nothing read, nothing written.
    assert_int_equal(::chmod(state.c_str(), 0777), 0);
    log.lines.clear();
    grace.remember(alice, 1060, 1000);
    assert_true(logged(log, "grace_period cannot be recorded"));
    assert_int_equal(::chmod(state.c_str(), 0700), 0);
}

void grace_key_without_rhost_holds_ruser_and_tty(void** /*state*/) {
    LoginContext su;
    su.user = "root";
    su.service = "su";
    su.ruser = "alice";
    su.tty = "/dev/pts/1";
    const GraceKey k = grace_key(su);
    assert_string_equal(k.ruser.c_str(), "alice");
    assert_string_equal(k.tty.c_str(), "/dev/pts/1");
    // With a remote host, that host is the key (sshd's tty is "ssh").
    LoginContext ssh = su;
    ssh.rhost = "192.0.2.1";
    assert_true(grace_key(ssh).ruser.empty());
    assert_true(grace_key(ssh).tty.empty());
    assert_string_equal(grace_key(ssh).rhost.c_str(), "192.0.2.1");
}

void grace_without_rhost_is_tied_to_ruser_and_tty(void** /*state*/) {
    // alice's "su root" with a code on pts/1 does not let mallory's
    // "su root" on pts/7, or mallory's on pts/1 afterwards, skip FAC.
    TempDir dir;
    ListLogger log;
    GraceRecords grace(dir.path + "/state", geteuid(), log);
    grace.remember(GraceKey{"root", "", "su", "alice", "/dev/pts/1"}, 1060, 1000);
    assert_int_equal(grace.seconds_left(GraceKey{"root", "", "su", "alice", "/dev/pts/1"}, 1000, 3600), 60);
    assert_int_equal(grace.seconds_left(GraceKey{"root", "", "su", "mallory", "/dev/pts/7"}, 1000, 3600), 0);
    assert_int_equal(grace.seconds_left(GraceKey{"root", "", "su", "alice", "/dev/pts/7"}, 1000, 3600), 0);
    assert_int_equal(grace.seconds_left(GraceKey{"root", "", "su", "mallory", "/dev/pts/1"}, 1000, 3600), 0);
    assert_int_equal(grace.seconds_left(GraceKey{"root", "", "su", "", ""}, 1000, 3600), 0);
}

struct Rig {
    Config config;
    LoginContext login;
    ScriptedConversation conv;
    FakeBackend backend;
    ListLogger logger;
    FakeGroups groups;
    TempDir dir;
    std::time_t now = 5000;

    Rig() {
        login.user = "alice";
        login.rhost = "192.0.2.1";
        login.service = "sshd";
        config.state_dir = dir.path + "/state";
        groups.members = {{"alice", {kUsers}}};
    }
    Outcome run() {
        Authenticator a(config, login, conv, backend, logger, groups, geteuid(), [this] { return now; });
        return a.run();
    }
};

void grace_period_skips_the_second_login(void** /*state*/) {
    Rig r;
    r.config.grace_period_s = 60;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    r.now += 30;
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Ignore));
    assert_non_null(strstr(o.reason.c_str(), "grace_period (30 s left)"));
    assert_int_equal(r.backend.checks.size(), 1);
    r.now += 31;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_int_equal(r.backend.checks.size(), 2);
}

void grace_period_without_rhost_needs_the_same_ruser_and_tty(void** /*state*/) {
    Rig r;
    r.login.rhost.clear();
    r.login.service = "su";
    r.login.ruser = "alice";
    r.login.tty = "/dev/pts/1";
    r.config.grace_period_s = 60;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    r.login.ruser = "mallory";
    r.login.tty = "/dev/pts/7";
    r.conv.answers = {"000000"};
    r.config.tries = 1;
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    assert_int_equal(r.backend.checks.size(), 2);  // FAC was asked again
    r.login.ruser = "alice";
    r.login.tty = "/dev/pts/1";
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Ignore));
    assert_int_equal(r.backend.checks.size(), 2);
}

void failures_and_skips_never_start_a_grace_period(void** /*state*/) {
    Rig r;
    r.config.grace_period_s = 60;
    r.config.tries = 1;
    r.conv.answers = {"000000"};
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));  // FAC was asked

    Rig trusted;
    trusted.config.grace_period_s = 60;
    trusted.config.trusted_networks = {*parse_network("192.0.2.0/24")};
    assert_int_equal(static_cast<int>(trusted.run().status), static_cast<int>(Status::Ignore));
    trusted.config.trusted_networks.clear();
    trusted.conv.answers = {"123456"};
    trusted.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(trusted.run().status), static_cast<int>(Status::Success));
    assert_int_equal(trusted.backend.checks.size(), 1);
}

void policy_comes_before_any_prompt(void** /*state*/) {
    Rig r;
    r.config.groups = {"wheel"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Ignore));
    assert_true(r.conv.prompts.empty());
    assert_true(r.backend.checks.empty());

    Rig typo;
    typo.config.groups = {"wheeel"};
    typo.config.groups_where = "f:3";
    assert_int_equal(static_cast<int>(typo.run().status), static_cast<int>(Status::ServiceErr));
}

void mapped_name_goes_to_fac_local_name_stays_account(void** /*state*/) {
    Rig r;
    r.login.user = "Alice@Corp";
    r.config.username_map = {{UsernameMapStep::Kind::StripDomain, "", {}}, {UsernameMapStep::Kind::Lowercase, "", {}}};
    r.conv.answers = {""};
    r.backend.push_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(r.backend.pushes[0].username.c_str(), "alice");
    assert_string_equal(r.backend.pushes[0].account.c_str(), "Alice@Corp");
    assert_string_equal(o.fac_user.c_str(), "alice");
    assert_non_null(strstr(summary_line(o, r.login).c_str(), "user=Alice@Corp fac_user=alice"));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(networks),
        cmocka_unit_test(usernames),
        cmocka_unit_test(groups_select_users),
        cmocka_unit_test(system_groups_through_nss),
        cmocka_unit_test(groups_compared_by_id),
        cmocka_unit_test(configured_groups_resolved_once),
        cmocka_unit_test(trusted_networks_skip),
        cmocka_unit_test(grace_records),
        cmocka_unit_test(grace_records_refuse_what_they_cannot_trust),
        cmocka_unit_test(grace_key_without_rhost_holds_ruser_and_tty),
        cmocka_unit_test(grace_without_rhost_is_tied_to_ruser_and_tty),
        cmocka_unit_test(grace_period_without_rhost_needs_the_same_ruser_and_tty),
        cmocka_unit_test(grace_period_skips_the_second_login),
        cmocka_unit_test(failures_and_skips_never_start_a_grace_period),
        cmocka_unit_test(policy_comes_before_any_prompt),
        cmocka_unit_test(mapped_name_goes_to_fac_local_name_stays_account),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

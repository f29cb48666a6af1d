// Who needs FAC: trusted_networks, groups, username_map and grace_period,
// and the order the Authenticator applies them in around the flow.
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

struct FakeGroups final : GroupDirectory {
    std::map<std::string, std::vector<std::string>> members;  // user -> groups
    std::vector<std::string> existing{"wheel", "admins", "ops", "users"};
    std::optional<std::vector<std::string>> groups_of(const std::string& user) override {
        const auto it = members.find(user);
        if (it == members.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    bool group_exists(const std::string& group) override {
        return std::find(existing.begin(), existing.end(), group) != existing.end();
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
    g.members = {{"alice", {"users", "wheel"}}, {"bob", {"users"}}, {"carol", {"wheel", "admins"}}};
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

void system_groups_through_nss(void** /*state*/) {
    // root and its group exist on every machine this runs on.
    NssGroupDirectory nss;
    const auto groups = nss.groups_of("root");
    assert_true(groups.has_value());
    assert_true(std::find(groups->begin(), groups->end(), "root") != groups->end());
    assert_true(nss.group_exists("root"));
    assert_false(nss.group_exists("no-such-group-pamfac"));
    assert_false(nss.groups_of("no-such-user-pamfac").has_value());
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

void grace_records(void** /*state*/) {
    TempDir dir;
    ListLogger log;
    GraceRecords grace(dir.path + "/state", geteuid(), log);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.1", "sshd", 1000, 3600), 0);
    grace.remember("alice", "192.0.2.1", "sshd", 1060, 1000);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.1", "sshd", 1000, 3600), 60);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.1", "sshd", 1059, 3600), 1);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.1", "sshd", 1060, 3600), 0);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.2", "sshd", 1000, 3600), 0);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.1", "sudo", 1000, 3600), 0);
    assert_int_equal(grace.seconds_left("bob", "192.0.2.1", "sshd", 1000, 3600), 0);
    // Expired records are removed when the next one is written.
    grace.remember("bob", "192.0.2.9", "sshd", 3000, 2000);
    assert_int_equal(grace.seconds_left("alice", "192.0.2.1", "sshd", 1000, 3600), 0);
    assert_int_equal(grace.seconds_left("bob", "192.0.2.9", "sshd", 2000, 3600), 1000);
    // A shorter grace_period now in force caps the period already running.
    assert_int_equal(grace.seconds_left("bob", "192.0.2.9", "sshd", 2000, 60), 60);
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
        groups.members = {{"alice", {"users"}}};
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
        cmocka_unit_test(trusted_networks_skip),
        cmocka_unit_test(grace_records),
        cmocka_unit_test(grace_period_skips_the_second_login),
        cmocka_unit_test(failures_and_skips_never_start_a_grace_period),
        cmocka_unit_test(policy_comes_before_any_prompt),
        cmocka_unit_test(mapped_name_goes_to_fac_local_name_stays_account),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

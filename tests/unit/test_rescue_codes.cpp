// Rescue codes: their shape, the store of their yescrypt hashes (one
// root-only file per user, replaced atomically, consumed under a lock: of
// two processes racing for one code exactly one wins), and how the flow
// takes them in each rescue_codes mode without ever sending one to FAC.
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "auth/flow.h"
#include "auth/rescue_codes.h"
#include "fakes.h"
#include "state/rescue_store.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pamfac-rescue-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        ::nftw(
            path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
            FTW_DEPTH | FTW_PHYS);
    }
    std::string store() const { return path + "/var/lib/pam_fac/rescue"; }
};

std::vector<Secret> fresh_codes(std::size_t n) {
    std::string problem;
    auto codes = generate_rescue_codes(n, problem);
    assert_true(codes.has_value());
    return std::move(*codes);
}

std::string read_all(const std::string& path) {
    std::string text;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[4096];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
            text.append(buf, n);
        }
        std::fclose(f);
    }
    return text;
}

// Every file in `dir` and what it holds, concatenated.
std::string all_files(const std::string& dir) {
    std::string text;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.' || std::strlen(e->d_name) > 2) {
                text += read_all(dir + "/" + e->d_name);
            }
        }
        ::closedir(d);
    }
    return text;
}

// --- shape ---------------------------------------------------------------------------

void alphabet_has_no_look_alikes(void** /*state*/) {
    for (char c : std::string("0O1IL2Z5SB")) {
        assert_true(kRescueAlphabet.find(c) == std::string_view::npos);
    }
    assert_true(kRescueCodeLength >= 10);
}

void generated_codes_have_the_shape(void** /*state*/) {
    const auto codes = fresh_codes(100);
    std::set<std::string> seen;
    for (const Secret& code : codes) {
        assert_int_equal(code.size(), kRescueCodeLength);
        bool letter = false;
        for (char c : code.view()) {
            assert_true(kRescueAlphabet.find(c) != std::string_view::npos);
            letter = letter || !(c >= '0' && c <= '9');
        }
        assert_true(letter);
        assert_true(normalise_rescue_code(code.view()).has_value());
        seen.emplace(code.view());
    }
    assert_int_equal(seen.size(), 100);
}

void normalise(void** /*state*/) {
    auto code = normalise_rescue_code("ac3d4e6f7g8h");
    assert_true(code.has_value());
    assert_string_equal(code->c_str(), "AC3D4E6F7G8H");
    assert_false(normalise_rescue_code("123456").has_value());        // a FortiToken code
    assert_false(normalise_rescue_code("12345678").has_value());      // an 8-digit one
    assert_false(normalise_rescue_code("346789346789").has_value());  // all digits
    assert_false(normalise_rescue_code("AC3D4E6F7G8").has_value());   // too short
    assert_false(normalise_rescue_code("AC3D4E6F7G8HJ").has_value());
    assert_false(normalise_rescue_code("AC3D4E6F7G8O").has_value());  // O is not in the alphabet
    assert_false(normalise_rescue_code("AC3D-E6F7G8H").has_value());
    assert_false(normalise_rescue_code("").has_value());
}

// --- the store -------------------------------------------------------------------------

void issue_count_consume(void** /*state*/) {
    TempDir t;
    RescueStore store(t.store(), ::geteuid());
    assert_int_equal(store.count("alice"), 0);
    const auto codes = fresh_codes(3);
    assert_false(store.replace("alice", codes).has_value());
    assert_int_equal(store.count("alice"), 3);
    assert_int_equal(store.count("bob"), 0);

    struct stat st {};
    assert_int_equal(::lstat(t.store().c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    // Only salted yescrypt hashes are stored, never a code.
    const std::string stored = all_files(t.store());
    for (const Secret& code : codes) {
        assert_null(std::strstr(stored.c_str(), code.c_str()));
    }
    assert_non_null(std::strstr(stored.c_str(), "$y$"));

    // lower case is the same code
    std::string lower(codes[1].view());
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    RescueUse use = store.consume("alice", normalise_rescue_code(lower)->view());
    assert_int_equal(static_cast<int>(use.result), static_cast<int>(RescueUse::Result::Used));
    assert_int_equal(use.left, 2);
    use = store.consume("alice", codes[1].view());  // single use
    assert_int_equal(static_cast<int>(use.result), static_cast<int>(RescueUse::Result::Wrong));
    assert_int_equal(use.left, 2);
    use = store.consume("bob", codes[0].view());  // another user's code
    assert_int_equal(static_cast<int>(use.result), static_cast<int>(RescueUse::Result::Wrong));
    use = store.consume("alice", codes[0].view());
    assert_int_equal(static_cast<int>(use.result), static_cast<int>(RescueUse::Result::Used));
    assert_int_equal(use.left, 1);
}

void files_are_root_only_and_replaced(void** /*state*/) {
    TempDir t;
    RescueStore store(t.store(), ::geteuid());
    const auto first = fresh_codes(2);
    assert_false(store.replace("alice", first).has_value());
    const auto second = fresh_codes(4);
    assert_false(store.replace("alice", second).has_value());
    assert_int_equal(store.count("alice"), 4);
    assert_int_equal(static_cast<int>(store.consume("alice", first[0].view()).result),
                     static_cast<int>(RescueUse::Result::Wrong));
    std::size_t files = 0;
    DIR* d = ::opendir(t.store().c_str());
    while (const dirent* e = ::readdir(d)) {
        if (std::strncmp(e->d_name, "rescue-", 7) == 0) {
            ++files;
            struct stat st {};
            assert_int_equal(::stat((t.store() + "/" + e->d_name).c_str(), &st), 0);
            assert_int_equal(st.st_mode & 07777, 0600);
        }
        assert_null(std::strstr(e->d_name, ".XXXXXX"));  // no temporary file left
    }
    ::closedir(d);
    assert_int_equal(files, 1);
}

void list_and_revoke(void** /*state*/) {
    TempDir t;
    RescueStore store(t.store(), ::geteuid());
    std::vector<std::pair<std::string, std::size_t>> users;
    assert_false(store.list(users).has_value());  // nothing issued: an empty list, no error
    assert_true(users.empty());
    assert_false(store.replace("bob", fresh_codes(1)).has_value());
    assert_false(store.replace("alice", fresh_codes(3)).has_value());
    assert_false(store.list(users).has_value());
    assert_int_equal(users.size(), 2);
    assert_string_equal(users[0].first.c_str(), "alice");
    assert_int_equal(users[0].second, 3);
    assert_string_equal(users[1].first.c_str(), "bob");
    std::size_t removed = 0;
    assert_false(store.revoke("alice", removed).has_value());
    assert_int_equal(removed, 3);
    assert_int_equal(store.count("alice"), 0);
    assert_false(store.revoke("alice", removed).has_value());
    assert_int_equal(removed, 0);
    assert_int_equal(store.count("bob"), 1);
}

// The one user's record in the store `dir`.
std::string record_of(const std::string& dir) {
    std::string name;
    DIR* d = ::opendir(dir.c_str());
    while (const dirent* e = ::readdir(d)) {
        if (std::strncmp(e->d_name, "rescue-", 7) == 0) {
            name = e->d_name;
        }
    }
    ::closedir(d);
    assert_false(name.empty());
    return dir + "/" + name;
}

void unsafe_store_is_not_used(void** /*state*/) {
    TempDir t;
    RescueStore store(t.store(), ::geteuid());
    const auto codes = fresh_codes(2);
    assert_false(store.replace("alice", codes).has_value());
    assert_int_equal(::chmod(t.store().c_str(), 0777), 0);
    assert_int_equal(store.count("alice"), 0);
    const RescueUse use = store.consume("alice", codes[0].view());
    assert_int_equal(static_cast<int>(use.result), static_cast<int>(RescueUse::Result::Unavailable));
    assert_non_null(std::strstr(use.problem.c_str(), "rescue_dir"));
    assert_int_equal(::chmod(t.store().c_str(), 0700), 0);
    // A file someone else could read is not trusted either.
    assert_int_equal(::chmod(record_of(t.store()).c_str(), 0644), 0);
    assert_int_equal(store.count("alice"), 0);
    // A login never creates the directory.
    RescueStore missing(t.path + "/nothing", ::geteuid());
    assert_int_equal(missing.count("alice"), 0);
    struct stat st {};
    assert_int_equal(::lstat((t.path + "/nothing").c_str(), &st), -1);
}

void write_text(const std::string& path, const std::string& text, mode_t mode = 0600) {
    FILE* f = std::fopen(path.c_str(), "w");
    assert_non_null(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
    assert_int_equal(::chmod(path.c_str(), mode), 0);
}

// What facctl is refused, and records a login must not believe: another
// user's header, a line that is no hash, a file in the way, an unsafe or
// missing directory. Nothing here may count as a code.
void altered_or_unsafe_store_is_refused(void** /*state*/) {
    TempDir t;
    RescueStore store(t.store(), ::geteuid());
    const auto codes = fresh_codes(2);
    assert_string_equal(store.replace("", codes).value_or("").c_str(), "invalid user name");
    assert_string_equal(store.replace("al\nice", codes).value_or("").c_str(), "invalid user name");

    // A missing directory: nothing to list or revoke, and no error.
    std::size_t removed = 7;
    assert_false(store.revoke("alice", removed).has_value());
    assert_int_equal(removed, 0);

    assert_false(store.replace("alice", codes).has_value());
    const std::string record = record_of(t.store());
    const std::string good = read_all(record);
    const std::string hash =
        good.substr(good.find('\n') + 1, good.find('\n', good.find('\n') + 1) - good.find('\n') - 1);

    // Another user's header in alice's record (a renamed file): not hers.
    write_text(record, "user bob\n" + hash + "\n");
    assert_int_equal(store.count("alice"), 0);
    RescueUse use = store.consume("alice", codes[0].view());
    assert_int_equal(static_cast<int>(use.result), static_cast<int>(RescueUse::Result::Wrong));
    std::vector<std::pair<std::string, std::size_t>> users;
    assert_false(store.list(users).has_value());
    assert_true(users.empty());  // "bob" does not own that file name either

    // A line that is no yescrypt hash: the whole record is refused.
    write_text(record, "user alice\n" + hash + "\nnot-a-hash\n");
    assert_int_equal(store.count("alice"), 0);
    assert_false(store.list(users).has_value());
    assert_true(users.empty());

    // No "user " header at all, or a record others can read: skipped.
    write_text(record, hash + "\n");
    assert_false(store.list(users).has_value());
    assert_true(users.empty());
    write_text(record, good, 0644);
    assert_false(store.list(users).has_value());
    assert_true(users.empty());
    write_text(record, good);
    assert_false(store.list(users).has_value());
    assert_int_equal(users.size(), 1);

    // A directory group or others can write: every use is refused.
    assert_int_equal(::chmod(t.store().c_str(), 0770), 0);
    assert_non_null(std::strstr(store.list(users).value_or("").c_str(), "must be a directory owned by uid"));
    assert_non_null(std::strstr(store.revoke("alice", removed).value_or("").c_str(), "must be a directory"));
    assert_non_null(std::strstr(store.replace("alice", codes).value_or("").c_str(), "rescue_dir: "));
    assert_int_equal(::chmod(t.store().c_str(), 0700), 0);
    assert_int_equal(store.count("alice"), 2);

    // A file where a directory of rescue_dir's path should be.
    TempDir other;
    write_text(other.path + "/var", "");
    RescueStore blocked(other.store(), ::geteuid());
    assert_non_null(std::strstr(blocked.replace("alice", codes).value_or("").c_str(), "cannot create"));
}

// Two processes wait at a pipe, then consume the same code at once.
void two_processes_race_for_one_code(void** /*state*/) {
    for (int round = 0; round < 5; ++round) {
        TempDir t;
        RescueStore store(t.store(), ::geteuid());
        const auto codes = fresh_codes(3);
        assert_false(store.replace("alice", codes).has_value());
        int go[2];
        assert_int_equal(::pipe(go), 0);
        pid_t pids[2];
        for (pid_t& pid : pids) {
            pid = ::fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                ::close(go[1]);
                char c;
                const ssize_t n = ::read(go[0], &c, 1);  // 0 when the parent closes the pipe
                RescueStore mine(t.store(), ::geteuid());
                const RescueUse use = mine.consume("alice", codes[1].view());
                if (n != 0) {
                    ::_exit(40);
                }
                ::_exit(use.result == RescueUse::Result::Used ? 10 : use.result == RescueUse::Result::Wrong ? 20 : 30);
            }
        }
        ::close(go[0]);
        ::close(go[1]);
        int used = 0;
        int wrong = 0;
        for (pid_t pid : pids) {
            int status = 0;
            assert_int_equal(::waitpid(pid, &status, 0), pid);
            assert_true(WIFEXITED(status));
            used += WEXITSTATUS(status) == 10 ? 1 : 0;
            wrong += WEXITSTATUS(status) == 20 ? 1 : 0;
        }
        assert_int_equal(used, 1);
        assert_int_equal(wrong, 1);
        assert_int_equal(store.count("alice"), 2);
    }
}

// --- the flow ---------------------------------------------------------------------------

struct Rig {
    TempDir dir;
    Config config;
    LoginContext login = sample_login();
    ScriptedConversation conv;
    FakeBackend backend;
    ListLogger logger;
    RescueStore store{dir.store(), ::geteuid()};
    std::vector<Secret> codes;

    Rig() {
        config.tries = 3;
        codes = fresh_codes(3);
        assert_false(store.replace("alice", codes).has_value());
    }
    Outcome run() {
        Flow flow(config, login, conv, backend, logger, [] { return std::time_t{1700000000}; });
        flow.set_offline_fallbacks(nullptr, &store);
        return flow.run();
    }
    std::string code(std::size_t i) const { return std::string(codes.at(i).view()); }
    // No code and no hash in any log line, no code sent to the backend.
    void nothing_leaked() const {
        const std::string stored = all_files(dir.store());
        for (const auto& [level, line] : logger.lines) {
            for (const Secret& c : codes) {
                assert_null(std::strstr(line.c_str(), c.c_str()));
            }
            assert_null(std::strstr(line.c_str(), "$y$"));
        }
        for (const RecordedCheck& check : backend.checks) {
            for (const Secret& c : codes) {
                assert_true(check.code != c.view());
            }
        }
    }
};

bool logged(const Rig& r, LogLevel level, const char* needle) {
    for (const auto& [l, line] : r.logger.lines) {
        if (l == level && line.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

void yes_accepts_a_code_at_the_prompt_without_fac(void** /*state*/) {
    Rig r;
    r.config.rescue_codes = RescueMode::Yes;
    r.conv.answers = {r.code(0)};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "rescue");
    assert_true(r.backend.checks.empty());
    assert_true(r.backend.pushes.empty());
    assert_true(logged(r, LogLevel::Warning, "rescue code used by alice (rescue_codes = yes); 2 rescue codes left"));
    assert_non_null(std::strstr(o.reason.c_str(), "2 rescue codes left"));
    assert_int_equal(r.store.count("alice"), 2);
    r.nothing_leaked();
}

void yes_wrong_code_is_a_failed_try(void** /*state*/) {
    Rig r;
    r.config.rescue_codes = RescueMode::Yes;
    r.conv.answers = {"AC3D4E6F7G8H", "123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "code");
    assert_string_equal(r.conv.errors.at(0).c_str(), "Incorrect rescue code.");
    assert_int_equal(r.backend.checks.size(), 1);
    assert_string_equal(r.backend.checks[0].code.c_str(), "123456");
    assert_int_equal(r.store.count("alice"), 3);
}

void offline_refuses_a_code_while_fac_answers(void** /*state*/) {
    Rig r;  // rescue_codes = offline by default
    r.conv.answers = {r.code(0), "111111", "222222"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::WrongCredentials};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_non_null(std::strstr(r.conv.errors.at(0).c_str(), "only while FortiAuthenticator cannot be reached"));
    assert_int_equal(r.backend.checks.size(), 2);  // the rescue code was never sent, and cost a try
    assert_int_equal(r.store.count("alice"), 3);
    r.nothing_leaked();
}

void offline_accepts_a_code_after_an_outage(void** /*state*/) {
    Rig r;
    r.conv.answers = {"123456", r.code(2)};
    r.backend.check_verdicts = {Verdict::Outage};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "rescue");
    assert_int_equal(r.conv.prompts.size(), 2);
    assert_string_equal(r.conv.prompts[1].first.c_str(), prompts::kRescueCode);
    assert_true(logged(r, LogLevel::Warning, "2 rescue codes left"));
    assert_int_equal(r.backend.checks.size(), 1);
    r.nothing_leaked();
}

void offline_after_a_failed_push(void** /*state*/) {
    Rig r;
    r.conv.answers = {"", r.code(0)};
    r.backend.push_verdicts = {Verdict::Outage};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "rescue");
}

void outage_rescue_prompt_tries_and_give_up(void** /*state*/) {
    Rig r;
    r.conv.answers = {"123456", "AC3D4E6F7G8H", "nonsense", "AC3D4E6F7G8J"};
    r.backend.check_verdicts = {Verdict::Outage};
    Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_non_null(std::strstr(o.reason.c_str(), "wrong rescue code (3 of 3 tries used)"));
    assert_int_equal(r.store.count("alice"), 3);

    Rig enter;  // an empty answer: no rescue code, failmode's answer
    enter.conv.answers = {"123456", ""};
    enter.backend.check_verdicts = {Verdict::Outage};
    o = enter.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
}

// The rescue prompt when the store cannot be trusted at that moment, or the
// conversation ends: no code is believed.
void rescue_prompt_without_a_usable_store_or_user(void** /*state*/) {
    Rig r;
    r.config.tries = 1;
    r.conv.answers = {"123456", r.code(0)};
    r.backend.check_verdicts = {Verdict::Outage};
    r.conv.before_each_answer = [&r] {
        if (r.conv.prompts.size() == 2) {  // at the rescue prompt, the directory turns unsafe
            assert_int_equal(::chmod(r.dir.store().c_str(), 0777), 0);
        }
    };
    Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_non_null(std::strstr(o.reason.c_str(), "rescue code not checked: rescue_dir"));
    assert_int_equal(::chmod(r.dir.store().c_str(), 0700), 0);
    assert_int_equal(r.store.count("alice"), 3);

    Rig gone;  // the user went away at the rescue prompt
    gone.conv.answers = {"123456"};
    gone.backend.check_verdicts = {Verdict::Outage};
    o = gone.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::ConvErr));
    assert_non_null(std::strstr(o.reason.c_str(), "conversation failed while asking for a rescue code"));
}

void no_rescue_prompt_without_codes_or_when_off(void** /*state*/) {
    Rig none;
    std::size_t removed = 0;
    assert_false(none.store.revoke("alice", removed).has_value());
    none.conv.answers = {"123456", "unused"};
    none.backend.check_verdicts = {Verdict::Outage};
    assert_int_equal(static_cast<int>(none.run().status), static_cast<int>(Status::AuthinfoUnavail));
    assert_int_equal(none.conv.prompts.size(), 1);

    Rig off;
    off.config.rescue_codes = RescueMode::No;
    off.conv.answers = {off.code(0), "123456"};
    off.backend.check_verdicts = {Verdict::Outage};
    const Outcome o = off.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
    assert_string_equal(off.conv.errors.at(0).c_str(), "A FortiToken code is 6 to 8 digits.");
    assert_int_equal(off.conv.prompts.size(), 2);  // no rescue prompt
    assert_int_equal(off.store.count("alice"), 3);

    Rig password;  // FAC checks the password too: a rescue code cannot stand for it
    password.config.rescue_codes = RescueMode::Yes;
    password.config.password = true;
    password.conv.answers = {"pw", password.code(0)};
    password.backend.check_verdicts = {};
    (void)password.run();
    assert_int_equal(password.store.count("alice"), 3);
}

void safe_failmode_comes_before_rescue(void** /*state*/) {
    Rig r;
    r.config.failmode = FailMode::Safe;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Outage};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Ignore));
    assert_int_equal(r.conv.prompts.size(), 1);
}

void only_an_outage_opens_the_rescue_prompt(void** /*state*/) {
    for (Verdict v : {Verdict::NotUnderstood, Verdict::TlsFailure, Verdict::ApiCredentialsRejected,
                      Verdict::LocalFailure, Verdict::PushLost}) {
        Rig r;
        r.conv.answers = {"123456", r.code(0)};
        r.backend.check_verdicts = {v};
        const Outcome o = r.run();
        assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
        assert_int_equal(r.conv.prompts.size(), 1);
        assert_int_equal(r.store.count("alice"), 3);
    }
}

void ruser_uses_the_persons_codes(void** /*state*/) {
    Rig r;
    r.config.rescue_codes = RescueMode::Yes;
    r.config.fac_username = FacUsername::Ruser;
    r.login.user = "root";
    r.login.ruser = "alice";
    r.conv.answers = {r.code(0)};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_int_equal(r.store.count("alice"), 2);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alphabet_has_no_look_alikes),
        cmocka_unit_test(generated_codes_have_the_shape),
        cmocka_unit_test(normalise),
        cmocka_unit_test(issue_count_consume),
        cmocka_unit_test(files_are_root_only_and_replaced),
        cmocka_unit_test(list_and_revoke),
        cmocka_unit_test(unsafe_store_is_not_used),
        cmocka_unit_test(altered_or_unsafe_store_is_refused),
        cmocka_unit_test(two_processes_race_for_one_code),
        cmocka_unit_test(yes_accepts_a_code_at_the_prompt_without_fac),
        cmocka_unit_test(yes_wrong_code_is_a_failed_try),
        cmocka_unit_test(offline_refuses_a_code_while_fac_answers),
        cmocka_unit_test(offline_accepts_a_code_after_an_outage),
        cmocka_unit_test(offline_after_a_failed_push),
        cmocka_unit_test(outage_rescue_prompt_tries_and_give_up),
        cmocka_unit_test(rescue_prompt_without_a_usable_store_or_user),
        cmocka_unit_test(no_rescue_prompt_without_codes_or_when_off),
        cmocka_unit_test(safe_failmode_comes_before_rescue),
        cmocka_unit_test(only_an_outage_opens_the_rescue_prompt),
        cmocka_unit_test(ruser_uses_the_persons_codes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

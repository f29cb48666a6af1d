// Every branch of the authentication flow, driven with a scripted user and
// a scripted backend: prompts and their order, tries, input checks, push and
// its fallbacks, and the Status each verdict maps to.
#include "cmocka_cpp.h"

#include <cstring>
#include <string>

#include "auth/flow.h"
#include "fakes.h"

using namespace pamfac;
using namespace pamfac::testing;

namespace {

struct Rig {
    Config config;
    LoginContext login = sample_login();
    ScriptedConversation conv;
    FakeBackend backend;
    ListLogger logger;
    const Secret* forwarded = nullptr;

    Outcome run() {
        Flow flow(config, login, conv, backend, logger, [] { return std::time_t{1700000000}; });
        Outcome o = flow.run();
        forwarded_copy = flow.prompted_password() ? std::string(flow.prompted_password()->view()) : "";
        had_forward = flow.prompted_password() != nullptr;
        return o;
    }
    std::string forwarded_copy;
    bool had_forward = false;
};

bool contains(const std::string& haystack, const char* needle) {
    return haystack.find(needle) != std::string::npos;
}

void code_accepted(void** /*state*/) {
    Rig r;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 1);
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kCodeOrPush);
    assert_false(r.conv.prompts[0].second);
    assert_int_equal(r.backend.checks.size(), 1);
    assert_false(r.backend.checks[0].has_password);
    assert_string_equal(r.backend.checks[0].code.c_str(), "123456");
    assert_string_equal(o.method.c_str(), "code");
    assert_string_equal(o.server.c_str(), "fac1.test");
    assert_true(o.reason.empty());
}

void code_only_prompt_for_second_factor_code(void** /*state*/) {
    Rig r;
    r.config.second_factor = SecondFactor::Code;
    r.conv.answers = {"12345678"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kCode);
}

void wrong_code_then_right(void** /*state*/) {
    Rig r;
    r.conv.answers = {"111111", "222222"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_int_equal(r.backend.checks.size(), 2);
    assert_int_equal(r.conv.errors.size(), 1);
    assert_string_equal(r.conv.errors[0].c_str(), "Incorrect code.");
}

void tries_exhausted(void** /*state*/) {
    Rig r;
    r.config.tries = 3;
    r.conv.answers = {"111111", "222222", "333333", "444444"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::WrongCredentials, Verdict::WrongCredentials};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_int_equal(r.backend.checks.size(), 3);
    assert_int_equal(r.conv.prompts.size(), 3);
    assert_true(contains(o.reason, "3 of 3 tries"));
}

void tries_one(void** /*state*/) {
    Rig r;
    r.config.tries = 1;
    r.conv.answers = {"111111", "222222"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    assert_int_equal(r.backend.checks.size(), 1);
}

void malformed_code_is_a_try_and_not_sent(void** /*state*/) {
    Rig r;
    r.conv.answers = {"12ab56", "12345", "123456789", " 123456", "123456"};
    r.config.tries = 5;
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_int_equal(r.backend.checks.size(), 1);
    assert_int_equal(r.conv.errors.size(), 4);
    assert_true(contains(r.conv.errors[0], "6 to 8 digits"));
}

void malformed_codes_exhaust_tries(void** /*state*/) {
    Rig r;
    r.conv.answers = {"abc", "def", "ghi"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(r.backend.checks.empty());
    assert_true(contains(o.reason, "not sent"));
}

void empty_answer_sends_push(void** /*state*/) {
    Rig r;
    r.conv.answers = {""};
    r.backend.push_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "push");
    assert_int_equal(r.backend.pushes.size(), 1);
    assert_true(r.backend.checks.empty());
    assert_int_equal(r.conv.infos.size(), 1);
    assert_true(contains(r.conv.infos[0], "FortiToken Mobile"));
    assert_true(contains(r.conv.infos[0], "60 seconds"));
    const PushFields& p = r.backend.pushes[0];
    assert_string_equal(p.username.c_str(), "alice");
    assert_string_equal(p.account.c_str(), "alice");
    assert_string_equal(p.user_ip.c_str(), "203.0.113.5");
    assert_string_equal(p.timestamp.c_str(), "2023-11-14T22:13:20Z");
    assert_string_equal(p.log_message.c_str(), "sshd login to web1 as alice from 203.0.113.5");
    assert_true(contains(p.user_agent, "pam_fac/"));
}

void push_message_template_and_hostname_rhost(void** /*state*/) {
    Rig r;
    r.login.rhost = "jump.example.com";
    r.config.push_message = "{user}@{host} via {service} on {tty} from {rhost}";
    r.conv.answers = {""};
    r.backend.push_verdicts = {Verdict::Accepted};
    r.run();
    assert_true(r.backend.pushes[0].user_ip.empty());
    assert_string_equal(r.backend.pushes[0].log_message.c_str(), "alice@web1 via sshd on ssh from jump.example.com");
}

void push_rejected(void** /*state*/) {
    Rig r;
    r.conv.answers = {""};
    r.backend.push_verdicts = {Verdict::PushRejected};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    assert_string_equal(r.conv.errors.back().c_str(), "The push was rejected.");
}

void push_timed_out(void** /*state*/) {
    Rig r;
    r.config.push_timeout_ms = 1500;
    r.conv.answers = {""};
    r.backend.push_verdicts = {Verdict::PushTimedOut};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    assert_true(contains(r.conv.infos[0], "2 seconds"));
    Rig one;
    one.config.push_timeout_ms = 1000;
    one.conv.answers = {""};
    one.backend.push_verdicts = {Verdict::PushTimedOut};
    one.run();
    assert_true(contains(one.conv.infos[0], "within 1 second."));
    assert_string_equal(r.conv.errors.back().c_str(), "The push was not approved in time.");
}

void push_not_sent_falls_back_to_code_without_using_a_try(void** /*state*/) {
    Rig r;
    r.config.tries = 1;
    r.conv.answers = {"", "123456"};
    r.backend.push_verdicts = {Verdict::PushNotSent};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 2);
    assert_string_equal(r.conv.prompts[1].first.c_str(), prompts::kCode);
    assert_true(contains(r.conv.errors[0], "Enter a code instead"));
}

void push_unavailable_falls_back_to_code(void** /*state*/) {
    Rig r;
    r.conv.answers = {"", "", "654321"};
    r.backend.push_verdicts = {Verdict::PushUnavailable};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    // After the fallback an empty answer is just a malformed code.
    assert_int_equal(r.backend.pushes.size(), 1);
    assert_int_equal(r.backend.checks.size(), 1);
}

void push_only_mode(void** /*state*/) {
    Rig r;
    r.config.second_factor = SecondFactor::Push;
    r.backend.push_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_true(r.conv.prompts.empty());
    assert_int_equal(r.conv.infos.size(), 1);
}

void push_only_not_sent_is_unavailable(void** /*state*/) {
    Rig r;
    r.config.second_factor = SecondFactor::Push;
    r.config.failmode = FailMode::Safe;
    r.backend.push_verdicts = {Verdict::PushNotSent};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthinfoUnavail));
}

void push_only_no_mobile_token_is_denied(void** /*state*/) {
    Rig r;
    r.config.second_factor = SecondFactor::Push;
    r.backend.push_verdicts = {Verdict::PushUnavailable};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
}

void password_and_code(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.conv.answers = {"s3cret \"pw\"", "123456"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::Accepted};
    r.conv.answers.push_back("654321");
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kPassword);
    assert_false(r.conv.prompts[0].second);
    assert_string_equal(r.conv.prompts[1].first.c_str(), prompts::kCodeOrPush);
    // Only the code prompt repeats after a failure.
    assert_string_equal(r.conv.prompts[2].first.c_str(), prompts::kCodeOrPush);
    assert_int_equal(r.backend.checks.size(), 2);
    assert_true(r.backend.checks[1].has_password);
    assert_string_equal(r.backend.checks[1].password.c_str(), "s3cret \"pw\"");
    assert_string_equal(r.backend.checks[1].code.c_str(), "654321");
    assert_string_equal(o.method.c_str(), "password+code");
    assert_string_equal(r.conv.errors[0].c_str(), "Incorrect password or code.");
    assert_true(r.had_forward);
    assert_string_equal(r.forwarded_copy.c_str(), "s3cret \"pw\"");
}

void password_then_push(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.conv.answers = {"pw", ""};
    r.backend.check_verdicts = {Verdict::Accepted};
    r.backend.push_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "password+push");
    assert_int_equal(r.backend.checks.size(), 1);
    assert_true(r.backend.checks[0].has_password);
    assert_false(r.backend.checks[0].has_code);
}

void wrong_password_sends_no_push(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.second_factor = SecondFactor::Push;
    r.conv.answers = {"bad"};
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    assert_true(r.backend.pushes.empty());
    assert_string_equal(r.conv.errors[0].c_str(), "Incorrect password.");
}

void password_only(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.second_factor = SecondFactor::None;
    r.conv.answers = {"pw"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "password");
    assert_int_equal(r.conv.prompts.size(), 1);
    assert_false(r.backend.checks[0].has_code);
}

void password_only_wrong(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.second_factor = SecondFactor::None;
    r.conv.answers = {"bad"};
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_string_equal(o.reason.c_str(), "wrong password");
    assert_string_equal(r.conv.errors[0].c_str(), "Incorrect password.");
}

// The password checked before a push: a failure that is not a wrong
// password stops there (no push) and keeps its own meaning; a password that
// must change is told once the push is approved.
void password_before_push_not_understood_or_to_change(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.second_factor = SecondFactor::Push;
    r.conv.answers = {"pw"};
    r.backend.check_verdicts = {Verdict::NotUnderstood};
    Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
    assert_string_equal(o.method.c_str(), "password");
    assert_true(r.backend.pushes.empty());

    Rig change;
    change.config.password = true;
    change.config.second_factor = SecondFactor::Push;
    change.conv.answers = {"pw"};
    change.backend.check_verdicts = {Verdict::AcceptedPasswordChange};
    change.backend.push_verdicts = {Verdict::Accepted};
    o = change.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_true(contains(change.conv.infos.back(), "change your password"));

    Rig abandoned;
    abandoned.config.second_factor = SecondFactor::Push;
    abandoned.backend.push_verdicts = {Verdict::PushAbandoned};
    assert_int_equal(static_cast<int>(abandoned.run().status), static_cast<int>(Status::AuthErr));
}

// A password from an earlier module (PAM_AUTHTOK) is held to the same limits
// as a typed one, and use_first_pass without one sends nothing.
void authtok_limits(void** /*state*/) {
    const std::string long_password(513, 'p');
    Rig r;
    r.config.password = true;
    r.config.authtok_source = AuthtokSource::TryFirstPass;
    r.login.authtok = long_password.c_str();
    r.conv.answers = {"123456"};
    Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(contains(o.reason, "PAM_AUTHTOK longer than 512 bytes"));
    assert_true(r.backend.checks.empty());

    Rig appended;
    appended.config.password = true;
    appended.config.otp_append = true;
    appended.config.authtok_source = AuthtokSource::UseFirstPass;
    o = appended.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(contains(o.reason, "use_first_pass is set but no earlier module left a password"));
    assert_true(appended.conv.prompts.empty());

    Rig gone;  // otp_append, and the user goes away at the prompt
    gone.config.password = true;
    gone.config.otp_append = true;
    o = gone.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::ConvErr));
    assert_true(gone.backend.checks.empty());
}

void otp_append_one_prompt(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.otp_append = true;
    r.conv.answers = {"pw123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 1);
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kPasswordAndCode);
    assert_true(r.backend.checks[0].concatenated);
    assert_string_equal(r.backend.checks[0].password.c_str(), "pw123456");
    assert_false(r.backend.checks[0].has_code);
    assert_string_equal(o.method.c_str(), "otp_append");
    assert_false(r.had_forward);
}

void otp_append_without_code_not_sent(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.otp_append = true;
    r.config.tries = 2;
    r.conv.answers = {"password", "pw12345"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(r.backend.checks.empty());
}

void otp_append_use_first_pass_single_attempt(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.otp_append = true;
    r.config.authtok_source = AuthtokSource::UseFirstPass;
    r.login.authtok = "pw123456";
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
    assert_true(r.conv.prompts.empty());
    assert_int_equal(r.backend.checks.size(), 1);
}

void otp_append_try_first_pass_then_prompts(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.otp_append = true;
    r.config.authtok_source = AuthtokSource::TryFirstPass;
    r.login.authtok = "old123456";
    r.conv.answers = {"pw654321"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 1);
    assert_string_equal(r.backend.checks[0].password.c_str(), "old123456");
    assert_string_equal(r.backend.checks[1].password.c_str(), "pw654321");
}

void use_first_pass_takes_authtok(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.authtok_source = AuthtokSource::UseFirstPass;
    r.config.forward_pass = true;
    r.login.authtok = "frompam";
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 1);
    assert_string_equal(r.backend.checks[0].password.c_str(), "frompam");
    assert_false(r.had_forward);  // nothing new to forward
}

void use_first_pass_without_authtok_fails_without_prompt(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.authtok_source = AuthtokSource::UseFirstPass;
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(r.conv.prompts.empty());
    assert_true(contains(o.reason, "PAM_AUTHTOK"));
}

void try_first_pass_prompts_when_no_authtok(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.authtok_source = AuthtokSource::TryFirstPass;
    r.login.authtok = "";
    r.conv.answers = {"typed", "123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kPassword);
    assert_string_equal(r.backend.checks[0].password.c_str(), "typed");
}

void invalid_username_contacts_nobody(void** /*state*/) {
    const char* bad[] = {"", "al\nice", "\xff\xfe"};
    for (const char* name : bad) {
        Rig r;
        r.login.user = name;
        r.conv.answers = {"123456"};
        const Outcome o = r.run();
        assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::UserUnknown));
        assert_true(r.conv.prompts.empty());
        assert_true(r.backend.checks.empty());
    }
    Rig r;
    r.login.user = std::string(254, 'a');
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::UserUnknown));
}

void unknown_user_policies(void** /*state*/) {
    Rig deny;
    deny.conv.answers = {"123456"};
    deny.backend.check_verdicts = {Verdict::UnknownUser};
    assert_int_equal(static_cast<int>(deny.run().status), static_cast<int>(Status::UserUnknown));
    Rig ignore;
    ignore.config.unknown_user = UnknownUserPolicy::Ignore;
    ignore.conv.answers = {"123456"};
    ignore.backend.check_verdicts = {Verdict::UnknownUser};
    assert_int_equal(static_cast<int>(ignore.run().status), static_cast<int>(Status::Ignore));
}

void account_states_stop_at_once(void** /*state*/) {
    const struct {
        Verdict verdict;
        const char* message_part;
    } cases[] = {{Verdict::AccountDisabled, "disabled"},
                 {Verdict::NoToken, "No FortiToken"},
                 {Verdict::TokenOutOfSync, "out of sync"}};
    for (const auto& c : cases) {
        Rig r;
        r.conv.answers = {"123456", "123456"};
        r.backend.check_verdicts = {c.verdict, Verdict::Accepted};
        const Outcome o = r.run();
        assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
        assert_int_equal(r.backend.checks.size(), 1);
        assert_true(contains(r.conv.errors.at(0), c.message_part));
        assert_false(o.reason.empty());
    }
}

void unreachable_and_failmode(void** /*state*/) {
    Rig secure;
    secure.conv.answers = {"123456"};
    secure.backend.check_verdicts = {Verdict::Outage};
    Outcome o = secure.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
    assert_false(o.degraded);

    Rig safe;
    safe.config.failmode = FailMode::Safe;
    safe.conv.answers = {"123456"};
    safe.backend.check_verdicts = {Verdict::Outage};
    o = safe.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Ignore));
    assert_true(o.degraded);
    assert_true(contains(o.reason, "failmode = safe"));
}

void tls_and_credential_failures_ignore_failmode(void** /*state*/) {
    for (Verdict v : {Verdict::TlsFailure, Verdict::ApiCredentialsRejected}) {
        Rig r;
        r.config.failmode = FailMode::Safe;
        r.conv.answers = {"123456"};
        r.backend.check_verdicts = {v};
        const Outcome o = r.run();
        assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
        assert_false(o.degraded);
    }
}

void conversation_failure(void** /*state*/) {
    Rig r;
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::ConvErr));
    Rig p;
    p.config.password = true;
    assert_int_equal(static_cast<int>(p.run().status), static_cast<int>(Status::ConvErr));
}

void echo_code_echoes(void** /*state*/) {
    Rig r;
    r.config.echo_code = true;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    r.run();
    assert_true(r.conv.prompts[0].second);
}

void password_change_accepted_and_told(void** /*state*/) {
    Rig r;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::AcceptedPasswordChange};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::Success));
    assert_true(contains(r.conv.infos.back(), "change your password"));
}

void tls_verify_off_warns(void** /*state*/) {
    Rig r;
    r.config.tls_verify = false;
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    r.run();
    bool warned = false;
    for (const auto& [level, line] : r.logger.lines) {
        warned = warned || (level == LogLevel::Warning && contains(line, "tls_verify = no"));
    }
    assert_true(warned);
}

void a_rejected_answer_is_not_sent_again(void** /*state*/) {
    // sshd's PasswordAuthentication answers every prompt with the same text.
    Rig r;
    r.config.password = true;
    r.config.otp_append = true;
    r.conv.answers = {"pw000000", "pw000000", "pw000000"};
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::WrongCredentials, Verdict::WrongCredentials};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_int_equal(r.backend.checks.size(), 1);
    assert_true(contains(o.reason, "not sent twice"));

    Rig codes;
    codes.conv.answers = {"111111", "111111", "222222"};
    codes.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::Accepted};
    assert_int_equal(static_cast<int>(codes.run().status), static_cast<int>(Status::Success));
    assert_int_equal(codes.backend.checks.size(), 2);
    assert_string_equal(codes.backend.checks[1].code.c_str(), "222222");

    // Not only the last one (fuzz_flow found this): A, B, then A again.
    Rig earlier;
    earlier.config.tries = 4;
    earlier.conv.answers = {"111111", "222222", "111111", "333333"};
    earlier.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::WrongCredentials, Verdict::Accepted};
    assert_int_equal(static_cast<int>(earlier.run().status), static_cast<int>(Status::Success));
    assert_int_equal(earlier.backend.checks.size(), 3);
    assert_string_equal(earlier.backend.checks[2].code.c_str(), "333333");
}

void overlong_password_is_not_sent(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.conv.answers = {std::string(513, 'p'), "123456"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(r.backend.checks.empty());
    assert_true(contains(o.reason, "longer than 512 bytes"));
    Rig ok;
    ok.config.password = true;
    ok.conv.answers = {std::string(512, 'p'), "123456"};
    ok.backend.check_verdicts = {Verdict::Accepted};
    assert_int_equal(static_cast<int>(ok.run().status), static_cast<int>(Status::Success));
    assert_int_equal(ok.backend.checks[0].password.size(), 512);
}

void bad_request_is_denied(void** /*state*/) {
    Rig r;
    r.config.password = true;
    r.config.second_factor = SecondFactor::None;
    r.conv.answers = {"\xff"};
    r.backend.check_verdicts = {Verdict::BadRequest};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
}

// autopush: the push goes out as the prompt appears; whichever answer
// comes first decides, and the push thread never outlives run().

Rig& autopush_rig(Rig& r) {
    r.config.autopush = true;
    return r;
}

void autopush_the_prompt_says_the_push_is_out(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_delay_ms = -1;
    r.backend.check_verdicts = {Verdict::WrongCredentials, Verdict::Accepted};
    r.conv.answers = {"000000", "123456"};
    r.run();
    // The prompt is the one notice: no info text says it again.
    assert_true(r.conv.infos.empty());
    assert_int_equal(r.conv.prompts.size(), 2);
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kPushSent);
    assert_string_equal(r.conv.prompts[1].first.c_str(), prompts::kPushSent);  // still out after a wrong code
}

void autopush_never_claims_a_push_that_failed(void** /*state*/) {
    for (const Verdict v : {Verdict::PushNotSent, Verdict::PushUnavailable}) {
        Rig r;
        autopush_rig(r);
        r.backend.push_verdicts = {v};
        r.backend.check_verdicts = {Verdict::Accepted};
        r.conv.answers = {"123456"};
        const Outcome o = r.run();
        assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
        assert_int_equal(r.conv.prompts.size(), 1);
        assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kCode);
        assert_int_equal(r.conv.errors.size(), 1);
        assert_true(contains(r.conv.errors[0], "Enter a code instead"));
        assert_true(contains(r.conv.events[0], "error: "));  // told before the prompt
    }
}

void autopush_with_the_server_down_claims_no_push(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_verdicts = {Verdict::Outage};
    r.conv.answers = {"123456"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthinfoUnavail));
    assert_true(r.conv.infos.empty());  // nothing says a push was sent
    for (const auto& prompt : r.conv.prompts) {
        assert_string_not_equal(prompt.first.c_str(), prompts::kPushSent);
    }
    assert_true(contains(r.conv.errors.back(), "cannot be reached"));
}

void autopush_expired_push_is_not_claimed(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_verdicts = {Verdict::PushTimedOut};
    r.backend.check_verdicts = {Verdict::Accepted};
    r.conv.answers = {"123456"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 1);
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kCode);
}

void autopush_typed_code_wins_and_push_is_abandoned(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_delay_ms = -1;  // the phone never answers
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "code");
    assert_int_equal(r.backend.pushes.size(), 1);
    // run() returned, so the push thread was cancelled and joined.
    assert_int_equal(r.backend.pushes_abandoned.load(), 1);
    assert_int_equal(r.backend.pushes_finished.load(), 1);
}

void autopush_approved_then_enter(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_verdicts = {Verdict::Accepted};
    r.conv.before_each_answer = [&r] { r.backend.wait_for_push(); };
    r.conv.answers = {""};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "push");
    assert_true(r.backend.checks.empty());
}

void autopush_enter_waits_for_the_phone(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_delay_ms = 100;  // still pending when Enter comes (either way it must succeed)
    r.backend.push_verdicts = {Verdict::Accepted};
    r.conv.answers = {""};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_int_equal(r.backend.pushes_abandoned.load(), 0);
}

void autopush_approval_beats_a_typed_code(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_verdicts = {Verdict::Accepted};
    r.conv.before_each_answer = [&r] { r.backend.wait_for_push(); };
    r.conv.answers = {"123456"};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "push");
    assert_true(r.backend.checks.empty());  // the code was never sent
}

void autopush_rejection_fails_at_the_next_answer(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_verdicts = {Verdict::PushRejected};
    r.conv.before_each_answer = [&r] { r.backend.wait_for_push(); };
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(r.backend.checks.empty());
    assert_string_equal(r.conv.errors.back().c_str(), "The push was rejected.");
}

// The push answers only once the user is at the prompt.
void answer_push_at_the_prompt(Rig& r, std::atomic<bool>& at_prompt) {
    r.backend.push_released = [&at_prompt] { return at_prompt.load(); };
    r.conv.before_each_answer = [&r, &at_prompt] {
        at_prompt = true;
        r.backend.wait_for_push();
    };
}

void autopush_timeout_with_enter_fails(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    std::atomic<bool> at_prompt{false};
    answer_push_at_the_prompt(r, at_prompt);
    r.backend.push_verdicts = {Verdict::PushTimedOut};
    r.conv.answers = {""};
    assert_int_equal(static_cast<int>(r.run().status), static_cast<int>(Status::AuthErr));
}

void autopush_timeout_then_code_still_works(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_verdicts = {Verdict::PushTimedOut};
    r.conv.before_each_answer = [&r] { r.backend.wait_for_push(); };
    r.conv.answers = {"123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "code");
}

void autopush_not_sent_then_enter_asks_for_a_code(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.config.tries = 1;
    std::atomic<bool> at_prompt{false};
    answer_push_at_the_prompt(r, at_prompt);
    r.backend.push_verdicts = {Verdict::PushNotSent};
    r.conv.answers = {"", "123456"};
    r.backend.check_verdicts = {Verdict::Accepted};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_int_equal(r.conv.prompts.size(), 2);
    assert_string_equal(r.conv.prompts[0].first.c_str(), prompts::kPushSent);
    assert_string_equal(r.conv.prompts[1].first.c_str(), prompts::kCode);
    assert_true(contains(r.conv.errors[0], "Enter a code instead"));
    assert_int_equal(r.backend.pushes.size(), 1);  // no second push
}

void autopush_survives_a_wrong_code(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    // The phone answers only after the wrong code was checked.
    r.backend.push_released = [&r] { return r.backend.checks_done.load() >= 1; };
    r.backend.push_verdicts = {Verdict::Accepted};
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    r.conv.answers = {"000000", ""};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::Success));
    assert_string_equal(o.method.c_str(), "push");
    assert_int_equal(r.backend.checks.size(), 1);
    assert_int_equal(r.backend.pushes.size(), 1);
}

void autopush_checks_the_password_first(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.config.password = true;
    r.conv.answers = {"bad"};
    r.backend.check_verdicts = {Verdict::WrongCredentials};
    const Outcome o = r.run();
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::AuthErr));
    assert_true(r.backend.pushes.empty());
    assert_int_equal(r.conv.prompts.size(), 1);  // only the password was asked
}

void autopush_conversation_failure_still_joins(void** /*state*/) {
    Rig r;
    autopush_rig(r);
    r.backend.push_delay_ms = -1;
    const Outcome o = r.run();  // no answers: the conversation fails
    assert_int_equal(static_cast<int>(o.status), static_cast<int>(Status::ConvErr));
    assert_int_equal(r.backend.pushes_finished.load(), 1);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(code_accepted),
        cmocka_unit_test(code_only_prompt_for_second_factor_code),
        cmocka_unit_test(wrong_code_then_right),
        cmocka_unit_test(tries_exhausted),
        cmocka_unit_test(tries_one),
        cmocka_unit_test(malformed_code_is_a_try_and_not_sent),
        cmocka_unit_test(malformed_codes_exhaust_tries),
        cmocka_unit_test(empty_answer_sends_push),
        cmocka_unit_test(push_message_template_and_hostname_rhost),
        cmocka_unit_test(push_rejected),
        cmocka_unit_test(push_timed_out),
        cmocka_unit_test(push_not_sent_falls_back_to_code_without_using_a_try),
        cmocka_unit_test(push_unavailable_falls_back_to_code),
        cmocka_unit_test(push_only_mode),
        cmocka_unit_test(push_only_not_sent_is_unavailable),
        cmocka_unit_test(push_only_no_mobile_token_is_denied),
        cmocka_unit_test(password_and_code),
        cmocka_unit_test(password_then_push),
        cmocka_unit_test(wrong_password_sends_no_push),
        cmocka_unit_test(password_only),
        cmocka_unit_test(otp_append_one_prompt),
        cmocka_unit_test(otp_append_without_code_not_sent),
        cmocka_unit_test(otp_append_use_first_pass_single_attempt),
        cmocka_unit_test(otp_append_try_first_pass_then_prompts),
        cmocka_unit_test(use_first_pass_takes_authtok),
        cmocka_unit_test(use_first_pass_without_authtok_fails_without_prompt),
        cmocka_unit_test(try_first_pass_prompts_when_no_authtok),
        cmocka_unit_test(invalid_username_contacts_nobody),
        cmocka_unit_test(unknown_user_policies),
        cmocka_unit_test(account_states_stop_at_once),
        cmocka_unit_test(unreachable_and_failmode),
        cmocka_unit_test(tls_and_credential_failures_ignore_failmode),
        cmocka_unit_test(conversation_failure),
        cmocka_unit_test(echo_code_echoes),
        cmocka_unit_test(password_change_accepted_and_told),
        cmocka_unit_test(tls_verify_off_warns),
        cmocka_unit_test(a_rejected_answer_is_not_sent_again),
        cmocka_unit_test(overlong_password_is_not_sent),
        cmocka_unit_test(bad_request_is_denied),
        cmocka_unit_test(autopush_the_prompt_says_the_push_is_out),
        cmocka_unit_test(autopush_never_claims_a_push_that_failed),
        cmocka_unit_test(autopush_expired_push_is_not_claimed),
        cmocka_unit_test(autopush_with_the_server_down_claims_no_push),
        cmocka_unit_test(autopush_typed_code_wins_and_push_is_abandoned),
        cmocka_unit_test(autopush_approved_then_enter),
        cmocka_unit_test(autopush_enter_waits_for_the_phone),
        cmocka_unit_test(autopush_approval_beats_a_typed_code),
        cmocka_unit_test(autopush_rejection_fails_at_the_next_answer),
        cmocka_unit_test(autopush_timeout_with_enter_fails),
        cmocka_unit_test(autopush_timeout_then_code_still_works),
        cmocka_unit_test(autopush_not_sent_then_enter_asks_for_a_code),
        cmocka_unit_test(autopush_survives_a_wrong_code),
        cmocka_unit_test(autopush_checks_the_password_first),
        cmocka_unit_test(autopush_conversation_failure_still_joins),
        cmocka_unit_test(password_only_wrong),
        cmocka_unit_test(password_before_push_not_understood_or_to_change),
        cmocka_unit_test(authtok_limits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

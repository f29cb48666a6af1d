// Test doubles for the flow's collaborators: a scripted user, a backend
// that answers from a list, a transport that answers from a list, a logger
// that keeps its lines; and the sample login the tests share.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/cancel.h"
#include "core/conversation.h"
#include "core/http.h"
#include "core/logger.h"
#include "core/login.h"

namespace pamfac::testing {

// alice over ssh from 203.0.113.5 to web1.
inline LoginContext sample_login() {
    LoginContext login;
    login.user = "alice";
    login.rhost = "203.0.113.5";
    login.service = "sshd";
    login.tty = "ssh";
    login.host = "web1";
    return login;
}

struct ScriptedConversation final : Conversation {
    std::deque<std::string> answers;  // exhausted = conversation failure
    std::vector<std::pair<std::string, bool>> prompts;
    std::vector<std::string> infos;
    std::vector<std::string> errors;
    std::vector<std::string> events;           // "prompt: ...", "info: ...", "error: ..." in order
    std::function<void()> before_each_answer;  // e.g. wait until a background push is decided

    bool ask(const std::string& prompt, bool echo, Secret& answer) override {
        prompts.emplace_back(prompt, echo);
        events.push_back("prompt: " + prompt);
        if (before_each_answer) {
            before_each_answer();
        }
        if (answers.empty()) {
            return false;
        }
        answer.assign(answers.front());
        answers.pop_front();
        return true;
    }
    void info(const std::string& message) override {
        infos.push_back(message);
        events.push_back("info: " + message);
    }
    void error(const std::string& message) override {
        errors.push_back(message);
        events.push_back("error: " + message);
    }
};

struct RecordedCheck {
    std::string username;
    bool has_password;
    std::string password;
    bool has_code;
    std::string code;
    bool concatenated;
};

struct FakeBackend final : Backend {
    std::deque<Verdict> check_verdicts;  // exhausted = Unreachable
    std::deque<Verdict> push_verdicts;
    std::vector<RecordedCheck> checks;
    std::vector<PushFields> pushes;
    // A push takes this long (cancellable); -1: until it is cancelled.
    int push_delay_ms = 0;
    // Instead of a delay: the push answers once this returns true (polled).
    std::function<bool()> push_released;
    std::atomic<int> checks_done{0};
    std::atomic<int> pushes_finished{0};
    std::atomic<int> pushes_abandoned{0};

    // Blocks until a push has finished (for autopush tests).
    void wait_for_push() const {
        while (pushes_finished.load() == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    BackendResult check(const CodeCheck& c) override {
        checks.push_back(RecordedCheck{*c.username, c.password != nullptr,
                                       c.password ? std::string(c.password->view()) : "", c.code != nullptr,
                                       c.code ? std::string(c.code->view()) : "", c.concatenated});
        BackendResult result = next(check_verdicts);
        ++checks_done;
        return result;
    }
    BackendResult push(const PushFields& fields, CancelToken* cancel) override {
        pushes.push_back(fields);
        CancelToken local;
        CancelToken& token = cancel ? *cancel : local;
        bool cancelled = false;
        if (push_released) {
            while (!push_released() && !cancelled) {
                cancelled = !token.sleep_for(std::chrono::milliseconds(1));
            }
        } else if (push_delay_ms < 0) {
            cancelled = !wait_until_cancelled(token);
        } else {
            cancelled = !token.sleep_for(std::chrono::milliseconds(push_delay_ms));
        }
        BackendResult result =
            cancelled ? BackendResult{Verdict::PushAbandoned, "fac1.test", "abandoned"} : next(push_verdicts);
        if (cancelled) {
            ++pushes_abandoned;
        }
        ++pushes_finished;
        return result;
    }

private:
    static bool wait_until_cancelled(CancelToken& token) {
        while (token.sleep_for(std::chrono::milliseconds(50))) {
        }
        return false;
    }
    static BackendResult next(std::deque<Verdict>& verdicts) {
        if (verdicts.empty()) {
            return BackendResult{Verdict::Outage, "fac1.test", "no scripted answer"};
        }
        const Verdict v = verdicts.front();
        verdicts.pop_front();
        return BackendResult{v, "fac1.test", std::string("scripted ") + verdict_name(v)};
    }
};

struct ListLogger final : Logger {
    std::vector<std::pair<LogLevel, std::string>> lines;
    void emit(LogLevel level, const std::string& message) override { lines.emplace_back(level, message); }
};

struct FakeTransport final : Transport {
    std::deque<HttpResponse> responses;  // exhausted = connection refused
    std::vector<std::string> urls;
    std::vector<std::string> bodies;
    std::vector<long> timeouts;

    HttpResponse perform(const HttpRequest& request) override {
        urls.push_back(request.url);
        bodies.emplace_back(request.body ? std::string(request.body->view()) : "");
        timeouts.push_back(request.timeout_ms);
        if (responses.empty()) {
            HttpResponse refused;
            refused.error = NetError::Connect;
            refused.detail = "refused";
            return refused;
        }
        HttpResponse r = responses.front();
        responses.pop_front();
        return r;
    }
};

inline HttpResponse http_status(long status, std::string body = "") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

inline HttpResponse net_error(NetError e) {
    HttpResponse r;
    r.error = e;
    r.detail = "simulated";
    return r;
}

}  // namespace pamfac::testing

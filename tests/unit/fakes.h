// Test doubles for the flow's collaborators: a scripted user, a backend
// that answers from a list, a transport that answers from a list, a logger
// that keeps its lines.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"
#include "conversation.h"
#include "http.h"
#include "logger.h"

namespace pamfac::testing {

struct ScriptedConversation final : Conversation {
    std::deque<std::string> answers;  // exhausted = conversation failure
    std::vector<std::pair<std::string, bool>> prompts;
    std::vector<std::string> infos;
    std::vector<std::string> errors;

    bool ask(const std::string& prompt, bool echo, Secret& answer) override {
        prompts.emplace_back(prompt, echo);
        if (answers.empty()) {
            return false;
        }
        answer.assign(answers.front());
        answers.pop_front();
        return true;
    }
    void info(const std::string& message) override { infos.push_back(message); }
    void error(const std::string& message) override { errors.push_back(message); }
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

    BackendResult check(const CodeCheck& c) override {
        checks.push_back(RecordedCheck{*c.username, c.password != nullptr,
                                       c.password ? std::string(c.password->view()) : "", c.code != nullptr,
                                       c.code ? std::string(c.code->view()) : "", c.concatenated});
        return next(check_verdicts);
    }
    BackendResult push(const PushFields& fields, CancelToken* /*cancel*/) override {
        pushes.push_back(fields);
        return next(push_verdicts);
    }

private:
    static BackendResult next(std::deque<Verdict>& verdicts) {
        if (verdicts.empty()) {
            return BackendResult{Verdict::Unreachable, "fac1.test", "no scripted answer"};
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

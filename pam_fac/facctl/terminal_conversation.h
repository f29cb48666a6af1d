// facctl auth's side of the conversation: prompts on stderr, answers from
// stdin, with echo turned off on a terminal for secrets. --code and --push
// answer their prompt once, as a user would have.
#pragma once

#include <string>

#include "core/conversation.h"
#include "core/secret.h"

namespace facctl {

struct PresetAnswers {
    const pamfac::Secret* code = nullptr;  // answers the first code prompt
    bool push = false;                     // answers Enter at the first code-or-push prompt
};

class TerminalConversation final : public pamfac::Conversation {
public:
    TerminalConversation(int input_fd, PresetAnswers presets) : fd_(input_fd), presets_(presets) {}
    bool ask(const std::string& prompt, bool echo, pamfac::Secret& answer) override;
    void info(const std::string& message) override;
    void error(const std::string& message) override;

private:
    bool read_line(const std::string& prompt, bool echo, pamfac::Secret& answer);

    int fd_;
    PresetAnswers presets_;
    bool code_used_ = false;
    bool push_used_ = false;
};

// Longest answer read; anything longer fails the conversation (no password
// or code is that long, and a runaway input must not fill memory).
inline constexpr std::size_t kMaxAnswerBytes = 4096;

}  // namespace facctl

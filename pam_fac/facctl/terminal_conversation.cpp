#include "facctl/terminal_conversation.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <utility>

#include "auth/flow.h"
#include "core/text.h"

namespace facctl {
namespace {

// A signal while echo is off must not leave the user's terminal blind:
// the handler puts the saved settings back, then dies of the signal.
volatile sig_atomic_t g_restore_fd = -1;
termios g_saved{};

void restore_and_reraise(int sig) {
    if (g_restore_fd >= 0) {
        tcsetattr(g_restore_fd, TCSAFLUSH, &g_saved);
    }
    (void)signal(sig, SIG_DFL);
    (void)raise(sig);
}

constexpr int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

class EchoOff {
public:
    explicit EchoOff(int fd) {
        if (tcgetattr(fd, &g_saved) != 0) {
            return;
        }
        struct sigaction sa {};
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < sizeof kFatalSignals / sizeof kFatalSignals[0]; ++i) {
            sigaction(kFatalSignals[i], &sa, &old_[i]);
        }
        termios quiet = g_saved;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        quiet.c_lflag |= ECHONL;
        g_restore_fd = fd;
        active_ = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
        if (!active_) {
            restore_handlers();
        }
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;
    ~EchoOff() {
        if (active_) {
            tcsetattr(g_restore_fd, TCSAFLUSH, &g_saved);
            restore_handlers();
        }
    }

private:
    void restore_handlers() {
        g_restore_fd = -1;
        for (std::size_t i = 0; i < sizeof kFatalSignals / sizeof kFatalSignals[0]; ++i) {
            sigaction(kFatalSignals[i], &old_[i], nullptr);
        }
    }

    bool active_ = false;
    struct sigaction old_[sizeof kFatalSignals / sizeof kFatalSignals[0]]{};
};

bool is_code_prompt(const std::string& prompt) {
    return prompt == pamfac::prompts::kCode || prompt == pamfac::prompts::kCodeOrPush;
}

// Prompts and messages: a terminal that cannot show them is not worth
// failing the conversation over; the answer is what counts.
void say(const std::string& text) {
    (void)std::fflush(stdout);
    (void)std::fputs(text.c_str(), stderr);
    (void)std::fflush(stderr);
}

}  // namespace

bool TerminalConversation::ask(const std::string& prompt, bool echo, pamfac::Secret& answer) {
    if (presets_.code != nullptr && !code_used_ && is_code_prompt(prompt)) {
        code_used_ = true;
        say(prompt + "(from --code)\n");
        answer.assign(presets_.code->view());
        return true;
    }
    if (presets_.push && !push_used_ && prompt == pamfac::prompts::kCodeOrPush) {
        push_used_ = true;
        say(prompt + "(Enter, from --push)\n");
        answer.clear();
        return true;
    }
    return read_line(prompt, echo, answer);
}

// Byte by byte with read(2): stdio would keep a copy of the secret in its
// buffer, and would swallow the lines meant for the next prompts.
bool TerminalConversation::read_line(const std::string& prompt, bool echo, pamfac::Secret& answer) {
    answer.clear();
    const bool tty = isatty(fd_) == 1;
    // Echo goes off before the prompt shows, as getpass(3) does: a reply
    // typed the moment the prompt appears must be neither echoed nor
    // thrown away by the TCSAFLUSH.
    std::optional<EchoOff> quiet;
    if (tty && !echo) {
        quiet.emplace(fd_);
    }
    say(prompt);
    bool got_any = false;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(fd_, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (!got_any) {
                say("\n");
                return false;  // end of input: the user gave no answer
            }
            break;
        }
        got_any = true;
        if (c == '\n') {
            break;
        }
        if (answer.size() >= kMaxAnswerBytes) {
            answer.clear();
            say("\n");
            return false;
        }
        answer.push_back(c);
    }
    if (!answer.empty() && answer.view().back() == '\r') {
        pamfac::Secret trimmed(answer.view().substr(0, answer.size() - 1));
        answer = std::move(trimmed);
    }
    if (!tty) {
        say("\n");  // the answer was not echoed: end the prompt's line
    }
    return true;
}

void TerminalConversation::info(const std::string& message) {
    say(pamfac::display_safe(message) + "\n");
}

void TerminalConversation::error(const std::string& message) {
    say(pamfac::display_safe(message) + "\n");
}

}  // namespace facctl

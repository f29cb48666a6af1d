// What every facctl command shares: exit codes, one-line errors, loading
// the config exactly as the module does, and a logger on stderr.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/logger.h"

namespace facctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // denied, or nothing usable / listed
inline constexpr int kExitUsage = 2;        // bad command line or config
inline constexpr int kExitUnavailable = 3;  // FAC could not be reached or would not talk to us

// Prints "facctl <command>: <message>" as one line on stderr; returns `code`.
int fail(const char* command, std::string_view message, int code);

// Loads the config file (--conf PATH, else the module's default) with
// load_config: the same parser, checks and permission rules as the module.
// Returns the error message on failure.
std::optional<std::string> load_facctl_config(const char* conf_option, pamfac::Config& config);

// The message as one printable line: control characters escaped, so that
// neither a server nor a file can write to the terminal through us.
std::string one_line(std::string_view message);

// Log lines of the flow and the client: warnings always, debug lines when
// the config says debug = yes. Never given secrets (logger.h).
class StderrLogger final : public pamfac::Logger {
protected:
    void emit(pamfac::LogLevel level, const std::string& message) override;
};

// Text for stdout. A failed write (a closed pipe, a full disk) is not
// checked here but reported once, at the end, by flush_stdout().
void out(const std::string& text);
bool flush_stdout();

// A line on stderr, after what stdout holds so far. If stderr itself fails
// there is nowhere left to say so.
void err_line(const std::string& text);

}  // namespace facctl

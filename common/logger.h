// Where the module's log lines go: syslog through PAM in the module, stderr
// in facctl, a list in tests. Callers never pass secrets here.
#pragma once

#include <string>

namespace pamfac {

enum class LogLevel { Error, Warning, Notice, Info, Debug };

class Logger {
public:
    virtual ~Logger() = default;
    virtual void write(LogLevel level, const std::string& message) = 0;

    void set_debug(bool enabled) { debug_ = enabled; }
    bool debug_enabled() const { return debug_; }
    void debug(const std::string& message) {
        if (debug_) {
            write(LogLevel::Debug, message);
        }
    }
    void warning(const std::string& message) { write(LogLevel::Warning, message); }

private:
    bool debug_ = false;
};

}  // namespace pamfac

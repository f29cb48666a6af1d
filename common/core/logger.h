// Where the module's log lines go: syslog through PAM in the module, stderr
// in facctl, a list in tests. Callers never pass secrets here. Safe to call
// from the background push thread: lines are serialised here, so sinks need
// no locking of their own.
#pragma once

#include <mutex>
#include <string>

namespace pamfac {

enum class LogLevel { Error, Warning, Notice, Info, Debug };

class Logger {
public:
    virtual ~Logger() = default;

    void write(LogLevel level, const std::string& message) {
        const std::lock_guard<std::mutex> lock(mutex_);
        emit(level, message);
    }
    void set_debug(bool enabled) { debug_ = enabled; }
    bool debug_enabled() const { return debug_; }
    void debug(const std::string& message) {
        if (debug_) {
            write(LogLevel::Debug, message);
        }
    }
    void warning(const std::string& message) { write(LogLevel::Warning, message); }

protected:
    virtual void emit(LogLevel level, const std::string& message) = 0;

private:
    std::mutex mutex_;
    bool debug_ = false;
};

}  // namespace pamfac

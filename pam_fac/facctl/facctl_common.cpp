#include "facctl/facctl_common.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/text.h"

namespace facctl {

std::string one_line(std::string_view message) {
    return pamfac::printable(message);
}

void out(const std::string& text) {
    (void)std::fputs(text.c_str(), stdout);
}

void err_line(const std::string& text) {
    (void)std::fflush(stdout);
    (void)std::fputs((text + "\n").c_str(), stderr);
}

int fail(const char* command, std::string_view message, int code) {
    err_line("facctl " + std::string(command) + ": " + one_line(message));
    return code;
}

std::optional<std::string> load_facctl_config(const char* conf_option, pamfac::Config& config) {
    std::vector<std::string> args;
    if (conf_option != nullptr) {
        std::string path(conf_option);
        if (path.empty()) {
            return std::string("--conf needs a file name");
        }
        if (path.front() != '/') {
            // load_config wants an absolute path; realpath() would also
            // resolve a symlink, which the permission rules must still see.
            std::vector<char> cwd(4096);
            if (::getcwd(cwd.data(), cwd.size()) == nullptr) {
                return "cannot make " + path + " absolute: current directory unknown";
            }
            path = std::string(cwd.data()) + "/" + path;
        }
        args.push_back("conf=" + path);
    }
    if (auto error = pamfac::load_config(args, ::geteuid(), config)) {
        return error->message;
    }
    return std::nullopt;
}

void StderrLogger::emit(pamfac::LogLevel level, const std::string& message) {
    const char* tag = "";
    switch (level) {
    case pamfac::LogLevel::Error:
        tag = "error: ";
        break;
    case pamfac::LogLevel::Warning:
        tag = "warning: ";
        break;
    case pamfac::LogLevel::Debug:
        tag = "debug: ";
        break;
    case pamfac::LogLevel::Notice:
    case pamfac::LogLevel::Info:
        break;
    }
    err_line(std::string("facctl: ") + tag + one_line(message));
}

bool flush_stdout() {
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
        if (errno != EPIPE) {
            err_line(std::string("facctl: cannot write the output: ") + std::strerror(errno));
        }
        return false;
    }
    return true;
}

}  // namespace facctl

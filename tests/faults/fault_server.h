// Starts and stops tests/faults/fault_server.py (misbehaving HTTPS servers
// on loopback) for the integration tests. Header-only; include it before
// cmocka_cpp.h. Start it in a cmocka group setup and stop it in the group
// teardown (cmocka runs that even after a failure); the child also gets
// SIGTERM if the test process dies.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace faults {

class FaultServer {
public:
    // certs: a make_certs.sh directory. log: the event log it appends to.
    bool start(const std::string& certs, const std::string& log) {
        log_ = log;
        std::remove(log_.c_str());
        int out[2];
        if (pipe(out) != 0) {
            return false;
        }
        const std::string script = std::string(PAMFAC_SOURCE_DIR) + "/tests/faults/fault_server.py";
        const pid_t pid = fork();
        if (pid < 0) {
            return false;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            dup2(out[1], STDOUT_FILENO);
            close(out[0]);
            close(out[1]);
            unsetenv("LD_PRELOAD");
            unsetenv("PAM_WRAPPER");
            execl("/usr/bin/python3", "python3", script.c_str(), "--certs", certs.c_str(), "--log", log.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        pid_ = pid;
        std::string line;
        pollfd pfd{out[0], POLLIN, 0};
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            if (poll(&pfd, 1, 200) > 0) {
                char buf[512];
                const ssize_t n = read(out[0], buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                line.append(buf, static_cast<std::size_t>(n));
            }
        }
        close(out[0]);
        std::istringstream words(line);
        std::string word;
        words >> word;
        if (word != "PORTS") {
            std::fprintf(stderr, "fault_server did not start: '%s'\n", line.c_str());
            return false;
        }
        while (words >> word) {
            const std::size_t eq = word.find('=');
            ports_[word.substr(0, eq)] = std::atoi(word.c_str() + eq + 1);
        }
        return !ports_.empty();
    }

    void stop() {
        if (pid_ <= 0) {
            return;
        }
        kill(pid_, SIGTERM);
        for (int i = 0; i < 50; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    int port(const std::string& name) const {
        const auto it = ports_.find(name);
        return it == ports_.end() ? 0 : it->second;
    }
    std::string url(const std::string& name) const { return "https://127.0.0.1:" + std::to_string(port(name)); }

    // Forgets the events so far.
    void clear_events() const { std::remove(log_.c_str()); }

    // Events of one listener ("accept", "handshake", "request POST /api/v1/auth/", ...).
    std::vector<std::string> events(const std::string& name) const {
        std::vector<std::string> found;
        std::ifstream in(log_);
        std::string line;
        while (std::getline(in, line)) {
            if (line.compare(0, name.size() + 1, name + " ") == 0) {
                found.push_back(line.substr(name.size() + 1));
            }
        }
        return found;
    }

    std::size_t count(const std::string& name, const std::string& event_prefix) const {
        std::size_t n = 0;
        for (const std::string& e : events(name)) {
            n += e.compare(0, event_prefix.size(), event_prefix) == 0 ? 1 : 0;
        }
        return n;
    }

private:
    pid_t pid_ = -1;
    std::string log_;
    std::map<std::string, int> ports_;
};

}  // namespace faults

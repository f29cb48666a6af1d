// Starts and stops tests/faults/fault_server.py (misbehaving HTTPS servers
// on loopback) for the integration tests. Header-only; include it before
// cmocka_cpp.h. Start it in a cmocka group setup and stop it in the group
// teardown (cmocka runs that even after a failure); the child also gets
// SIGTERM if the test process dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../integration/harness.h"

namespace faults {

class FaultServer {
public:
    // certs: a make_certs.sh directory. log: the event log it appends to.
    bool start(const std::string& certs, const std::string& log) {
        log_ = log;
        std::remove(log_.c_str());
        const std::string script = std::string(PAMFAC_SOURCE_DIR) + "/tests/faults/fault_server.py";
        std::string line;
        pid_ = itest::spawn_python({script, "--certs", certs, "--log", log}, line);
        if (pid_ < 0) {
            return false;
        }
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

    void stop() { itest::stop_spawned(pid_); }

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

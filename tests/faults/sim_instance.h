// A second FAC/FTC simulator (tests/sim/fac_sim.py) under the test's own
// control: its own users file, certificate and mode, for tests that need
// what the harness's simulator cannot change at run time (another API key,
// FTC mode next to FAC mode). Header-only; include it before cmocka_cpp.h.
// Start it in a cmocka group setup, stop it in the group teardown; the
// child also gets SIGTERM if the test process dies.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>

#include "../integration/harness.h"

namespace faults {

class SimInstance {
public:
    // mode: "fac" or "ftc". cert_stem: "server" (or another make_certs.sh name).
    bool start(const std::string& users, const std::string& certs, const std::string& mode, const std::string& log,
               const std::string& cert_stem = "server") {
        certs_ = certs;
        const std::string sim = std::string(PAMFAC_SOURCE_DIR) + "/tests/sim/fac_sim.py";
        std::string line;
        pid_ = itest::spawn_python({sim, "--users", users, "--cert", certs + "/" + cert_stem + ".pem", "--key",
                                    certs + "/" + cert_stem + ".key", "--port", "0", "--log", log, "--mode", mode},
                                   line);
        if (std::sscanf(line.c_str(), "PORT %d", &port_) != 1) {
            std::fprintf(stderr, "second simulator did not start: '%s'\n", line.c_str());
            return false;
        }
        return true;
    }

    void stop() { itest::stop_spawned(pid_); }

    int port() const { return port_; }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

    // GET (body == nullptr) or POST a control API path; the answer's body,
    // with ok == false when it failed.
    std::string call(const std::string& path, const std::string* body, bool& ok) const {
        const itest::ControlAnswer answer = itest::control_request(url(), certs_ + "/ca.pem", path, body, 10);
        ok = answer.curl_code == 0 && answer.status < 400;
        if (!ok) {
            std::fprintf(stderr, "second simulator %s: curl %d, HTTP %ld: %s\n", path.c_str(), answer.curl_code,
                         answer.status, answer.body.c_str());
        }
        return answer.body;
    }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::string certs_;
};

}  // namespace faults

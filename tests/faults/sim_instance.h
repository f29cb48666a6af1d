// A second FAC/FTC simulator (tests/sim/fac_sim.py) under the test's own
// control: its own users file, certificate and mode, for tests that need
// what the harness's simulator cannot change at run time (another API key,
// FTC mode next to FAC mode). Header-only; include it before cmocka_cpp.h.
// Start it in a cmocka group setup, stop it in the group teardown; the
// child also gets SIGTERM if the test process dies.
#pragma once

#include <curl/curl.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

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
    // or nullopt-like empty with ok == false.
    std::string call(const std::string& path, const std::string* body, bool& ok) const {
        CURL* h = curl_easy_init();
        std::string response;
        const std::string url = this->url() + path;
        const std::string ca = certs_ + "/ca.pem";
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_CAINFO, ca.c_str());
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
        if (body != nullptr) {
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->c_str());
        }
        const CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(h);
        ok = rc == CURLE_OK && status < 400;
        if (!ok) {
            std::fprintf(stderr, "second simulator %s: curl %d, HTTP %ld: %s\n", path.c_str(), rc, status,
                         response.c_str());
        }
        return response;
    }

private:
    static std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
        static_cast<std::string*>(user)->append(data, size * count);
        return size * count;
    }

    pid_t pid_ = -1;
    int port_ = 0;
    std::string certs_;
};

}  // namespace faults

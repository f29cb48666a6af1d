// A second FAC/FTC simulator (tests/sim/fac_sim.py) under the test's own
// control: its own users file, certificate and mode, for tests that need
// what the harness's simulator cannot change at run time (another API key,
// FTC mode next to FAC mode). Header-only; include it before cmocka_cpp.h.
// Start it in a cmocka group setup, stop it in the group teardown; the
// child also gets SIGTERM if the test process dies.
#pragma once

#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace faults {

class SimInstance {
public:
    // mode: "fac" or "ftc". cert_stem: "server" (or another make_certs.sh name).
    bool start(const std::string& users, const std::string& certs, const std::string& mode, const std::string& log,
               const std::string& cert_stem = "server") {
        certs_ = certs;
        int out[2];
        if (pipe(out) != 0) {
            return false;
        }
        const std::string sim = std::string(PAMFAC_SOURCE_DIR) + "/tests/sim/fac_sim.py";
        const std::string cert = certs + "/" + cert_stem + ".pem";
        const std::string key = certs + "/" + cert_stem + ".key";
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
            execl("/usr/bin/python3", "python3", sim.c_str(), "--users", users.c_str(), "--cert", cert.c_str(), "--key",
                  key.c_str(), "--port", "0", "--log", log.c_str(), "--mode", mode.c_str(),
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
                char buf[128];
                const ssize_t n = read(out[0], buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                line.append(buf, static_cast<std::size_t>(n));
            }
        }
        close(out[0]);
        if (std::sscanf(line.c_str(), "PORT %d", &port_) != 1) {
            std::fprintf(stderr, "second simulator did not start: '%s'\n", line.c_str());
            return false;
        }
        return true;
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

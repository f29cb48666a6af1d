// libFuzzer target: the config parser (pam_fac.conf(5) and pam_fac(8)) through its real
// entry point, load_config(). The parser has no buffer entry point, so the
// input is written to a mode-0600 file that conf= names.
//
// Input: the config file's bytes; after the first NUL byte (a config file
// with NUL bytes is refused anyway), module arguments, one per line.
//
// Properties: no crash, no sanitizer report; an error message, as logged
// (log_value), holds no raw control character; a config that loads
// is usable: https:// servers, tries 1..10, positive timeouts, the
// credentials its backend needs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/text.h"
#include "fuzz_check.h"

using fuzzcheck::require;

namespace {

std::string g_dir;
std::string g_path;

void cleanup() {
    unlink(g_path.c_str());
    rmdir(g_dir.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/pamfac-fuzz-config-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
        std::abort();
    }
    g_dir = templ;
    g_path = g_dir + "/fuzz.conf";
    std::atexit(cleanup);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    const std::string_view file = input.substr(0, nul);
    const std::string_view arg_text = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

    const int fd = open(g_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    require(fd >= 0, "the scratch config file can be written");
    require(fchmod(fd, 0600) == 0, "chmod 600");
    std::size_t written = 0;
    while (written < file.size()) {
        const ssize_t n = write(fd, file.data() + written, file.size() - written);
        require(n > 0, "write");
        written += static_cast<std::size_t>(n);
    }
    close(fd);

    // conf= comes first, so a conf= from the input is "given twice" (an
    // error) and never makes the parser read some other file.
    std::vector<std::string> args = {"conf=" + g_path};
    for (std::size_t pos = 0; pos < arg_text.size();) {
        std::size_t end = arg_text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = arg_text.size();
        }
        if (end > pos) {
            args.emplace_back(arg_text.substr(pos, end - pos));
        }
        pos = end + 1;
    }

    pamfac::Config config;
    const auto error = pamfac::load_config(args, geteuid(), config);
    if (error) {
        require(!error->message.empty(), "a config error says something");
        // The message may quote the file's bytes (a path with a CR, say); the
        // module logs it through log_value(), which must escape them.
        require(fuzzcheck::free_of_controls(pamfac::log_value(error->message)),
                "config errors are logged without raw control characters");
        return 0;
    }
    require(!config.servers.empty(), "a loaded config has a server");
    for (const std::string& server : config.servers) {
        require(pamfac::ascii_lower(server.substr(0, 8)) == "https://", "every server is https://");
        require(fuzzcheck::free_of_controls(server), "server URLs hold no control characters");
        require(server.find('@') == std::string::npos, "no credentials in server URLs");
    }
    require(config.tries >= 1 && config.tries <= 10, "tries is 1..10");
    require(config.connect_timeout_ms > 0 && config.timeout_ms > 0 && config.push_timeout_ms > 0,
            "timeouts are positive");
    if (config.backend == pamfac::BackendKind::Fac) {
        require(!config.api_user.empty() && !config.api_key.empty(), "the FAC backend has API credentials");
    } else {
        require(!config.ftc_client_id.empty() && !config.ftc_client_secret.empty(),
                "the FTC backend has client credentials");
        require(!config.password && !config.otp_append, "the FTC backend checks no passwords");
    }
    require(!(config.otp_append && !config.password), "otp_append needs password");
    require(!(config.second_factor == pamfac::SecondFactor::None && !config.password),
            "second_factor = none needs password");
    require(!config.state_dir.empty() && config.state_dir.front() == '/', "state_dir is absolute");
    return 0;
}

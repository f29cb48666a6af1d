// PAM entry points: read the PAM items, load the config, run the flow, map
// its outcome to a PAM code and leave one syslog line. Nothing else.
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "auth/backend_factory.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/login.h"
#include "core/outage.h"
#include "core/outcome.h"
#include "http/curl_transport.h"
#include "module/pam_conversation.h"

namespace pamfac {
namespace {

std::string string_item(pam_handle_t* pamh, int item) {
    const void* value = nullptr;
    if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == nullptr) {
        return {};
    }
    return static_cast<const char*>(value);
}

int to_pam(Status status) {
    switch (status) {
#define PAMFAC_CODE_CASE(status, code) \
    case Status::status:               \
        return code;
        PAMFAC_STATUS_PAM_CODES(PAMFAC_CODE_CASE)
#undef PAMFAC_CODE_CASE
    }
    // Every Status has its case above (-Wswitch checks it); only a value
    // outside the enum, which nothing produces, would end here.
    return PAM_SERVICE_ERR;  // LCOV_EXCL_LINE
}

int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    const auto start = std::chrono::steady_clock::now();
    PamLogger logger(pamh);

    const char* user = nullptr;
    const int user_rc = pam_get_user(pamh, &user, nullptr);
    if (user_rc == PAM_CONV_AGAIN) {
        // The application's conversation is waiting for an event: libpam
        // resumes this module when the application calls again.
        return PAM_INCOMPLETE;
    }
    LoginContext login;
    login.user = (user_rc == PAM_SUCCESS && user != nullptr) ? user : "";
    login.rhost = string_item(pamh, PAM_RHOST);
    login.ruser = string_item(pamh, PAM_RUSER);
    login.service = string_item(pamh, PAM_SERVICE);
    login.tty = string_item(pamh, PAM_TTY);
    login.host = local_host_name();
    const void* authtok = nullptr;
    if (pam_get_item(pamh, PAM_AUTHTOK, &authtok) == PAM_SUCCESS) {
        login.authtok = static_cast<const char*>(authtok);
    }

    if (user_rc == PAM_CONV_ERR) {
        Outcome outcome;
        outcome.status = Status::ConvErr;
        outcome.reason = "the application could not ask for the user name (its conversation failed)";
        outcome.elapsed_ms = elapsed_ms(start);
        logger.write(summary_level(outcome), summary_line(outcome, login));
        return PAM_CONV_ERR;
    }

    const std::vector<std::string> args(argv, argv + argc);
    Config config;
    if (auto error = load_config(args, geteuid(), config)) {
        Outcome outcome;
        outcome.status = Status::ServiceErr;
        outcome.reason = error->message;
        outcome.elapsed_ms = elapsed_ms(start);
        logger.write(LogLevel::Error, summary_line(outcome, login));
        return PAM_SERVICE_ERR;
    }
    logger.set_debug(config.debug);
    logger.debug("start service=" + login.service + " conf=" + config.path +
                 " second_factor=" + second_factor_name(config.second_factor) +
                 " password=" + (config.password ? "yes" : "no") + " servers=" + std::to_string(config.servers.size()));

    CurlTransport transport(make_transport_settings(config));
    const std::unique_ptr<Backend> backend =
        make_backend(config, transport, logger, geteuid(), process_timing_is_callers());
    PamConversation conversation(pamh, (static_cast<unsigned>(flags) & PAM_SILENT) != 0);
    NssGroupDirectory groups;
    Authenticator authenticator(config, login, conversation, *backend, logger, groups, geteuid());
    const Outcome outcome = authenticator.run();

    if (config.forward_pass && authenticator.prompted_password() != nullptr) {
        pam_set_item(pamh, PAM_AUTHTOK, authenticator.prompted_password()->c_str());
    }
    logger.write(summary_level(outcome), summary_line(outcome, login));
    return to_pam(outcome.status);
}

}  // namespace
}  // namespace pamfac

// Everything is built hidden; only the PAM entry points are visible.
#define PAMFAC_EXPORT __attribute__((visibility("default")))

extern "C" {

PAMFAC_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    // No exception may cross into sshd or sudo.
    try {
        return pamfac::authenticate(pamh, flags, argc, argv);
    } catch (const std::bad_alloc&) {
        pam_syslog(pamh, LOG_CRIT, "result=error reason=\"out of memory\"");
        return PAM_BUF_ERR;
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_ERR, "result=error reason=\"internal error: %s\"", e.what());
        return PAM_SERVICE_ERR;
    } catch (...) {
        pam_syslog(pamh, LOG_ERR, "result=error reason=\"internal error\"");
        return PAM_SERVICE_ERR;
    }
}

PAMFAC_EXPORT int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/, const char** /*argv*/) {
    return PAM_SUCCESS;
}

PAMFAC_EXPORT int pam_sm_acct_mgmt(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/, const char** /*argv*/) {
    return PAM_IGNORE;
}

PAMFAC_EXPORT int pam_sm_open_session(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/, const char** /*argv*/) {
    return PAM_IGNORE;
}

PAMFAC_EXPORT int pam_sm_close_session(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/, const char** /*argv*/) {
    return PAM_IGNORE;
}

PAMFAC_EXPORT int pam_sm_chauthtok(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/, const char** /*argv*/) {
    return PAM_IGNORE;
}

}  // extern "C"

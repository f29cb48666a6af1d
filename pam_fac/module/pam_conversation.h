// The flow's Conversation and Logger over Linux-PAM's pam_prompt, pam_info,
// pam_error and pam_syslog.
#pragma once

#include <security/pam_modules.h>

#include "core/conversation.h"
#include "core/logger.h"

namespace pamfac {

class PamConversation final : public Conversation {
public:
    PamConversation(pam_handle_t* pamh, bool silent) : pamh_(pamh), silent_(silent) {}
    bool ask(const std::string& prompt, bool echo, Secret& answer) override;
    void info(const std::string& message) override;
    void error(const std::string& message) override;

private:
    pam_handle_t* pamh_;
    bool silent_;  // PAM_SILENT: no informational or error messages
};

class PamLogger final : public Logger {
public:
    explicit PamLogger(pam_handle_t* pamh) : pamh_(pamh) {}

protected:
    // pam_syslog only reads the handle's names, which stay fixed for the
    // whole call, and syslog(3) is thread-safe: the push thread may log.
    void emit(LogLevel level, const std::string& message) override;

private:
    pam_handle_t* pamh_;
};

}  // namespace pamfac

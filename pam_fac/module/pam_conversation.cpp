#include "module/pam_conversation.h"

#include <security/pam_ext.h>
#include <syslog.h>

#include <cstdlib>
#include <cstring>

namespace pamfac {

bool PamConversation::ask(const std::string& prompt, bool echo, Secret& answer) {
    char* response = nullptr;
    const int rc = pam_prompt(pamh_, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, &response, "%s", prompt.c_str());
    if (rc != PAM_SUCCESS || response == nullptr) {
        std::free(response);
        return false;
    }
    answer.assign(response);
    wipe_memory(response, std::strlen(response));
    std::free(response);
    return true;
}

void PamConversation::info(const std::string& message) {
    if (!silent_) {
        pam_info(pamh_, "%s", message.c_str());
    }
}

void PamConversation::error(const std::string& message) {
    if (!silent_) {
        pam_error(pamh_, "%s", message.c_str());
    }
}

void PamLogger::emit(LogLevel level, const std::string& message) {
    int priority = LOG_INFO;
    switch (level) {
    case LogLevel::Error:
        priority = LOG_ERR;
        break;
    case LogLevel::Warning:
        priority = LOG_WARNING;
        break;
    case LogLevel::Notice:
        priority = LOG_NOTICE;
        break;
    case LogLevel::Info:
        priority = LOG_INFO;
        break;
    case LogLevel::Debug:
        priority = LOG_DEBUG;
        break;
    }
    pam_syslog(pamh_, priority, "%s", message.c_str());
}

}  // namespace pamfac

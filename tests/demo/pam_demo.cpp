// A tiny PAM application for `make demo`: authenticates USER through
// SERVICE, answering prompts from the command line, and prints every prompt,
// the answer (masked), every message and the PAM result.
#include <security/pam_appl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Script {
    std::vector<std::string> answers;
    std::size_t next = 0;
};

std::string masked(const std::string& answer) {
    return answer.empty() ? "(Enter)" : std::string(answer.size(), '*');
}

int converse(int count, const pam_message** messages, pam_response** responses, void* data) {
    auto* script = static_cast<Script*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (replies == nullptr) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < count; ++i) {
        const pam_message* m = messages[i];
        switch (m->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON: {
            if (script->next >= script->answers.size()) {
                std::printf("    prompt  %s  -> (no answer left)\n", m->msg);
                std::free(replies);
                return PAM_CONV_ERR;
            }
            const std::string& answer = script->answers[script->next++];
            std::printf("    prompt  %s%s\n", m->msg, masked(answer).c_str());
            replies[i].resp = strdup(answer.c_str());
            break;
        }
        case PAM_TEXT_INFO:
            std::printf("    info    %s\n", m->msg);
            break;
        case PAM_ERROR_MSG:
            std::printf("    error   %s\n", m->msg);
            break;
        default:
            break;
        }
    }
    std::fflush(stdout);
    *responses = replies;
    return PAM_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s SERVICE USER [ANSWER...]\n", argv[0]);
        return 2;
    }
    Script script;
    for (int i = 3; i < argc; ++i) {
        script.answers.emplace_back(argv[i]);
    }
    const pam_conv conv{converse, &script};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start(argv[1], argv[2], &conv, &pamh);
    if (rc == PAM_SUCCESS) {
        pam_set_item(pamh, PAM_RHOST, "192.0.2.10");
        rc = pam_authenticate(pamh, 0);
    }
    std::printf("    result  %s (%s)\n", rc == PAM_SUCCESS ? "PAM_SUCCESS" : "failure", pam_strerror(pamh, rc));
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}

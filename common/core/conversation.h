// The user's side of a login, as the flow sees it: the PAM conversation in
// the module, the terminal in facctl, a script in tests.
#pragma once

#include <string>

#include "core/secret.h"

namespace pamfac {

class Conversation {
public:
    virtual ~Conversation() = default;
    // False when the conversation failed or the user aborted.
    virtual bool ask(const std::string& prompt, bool echo, Secret& answer) = 0;
    virtual void info(const std::string& message) = 0;
    virtual void error(const std::string& message) = 0;
};

}  // namespace pamfac

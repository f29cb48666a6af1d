// Who is logging in, from where, through which service: read from PAM items
// by the module, from the command line by facctl.
#pragma once

#include <string>

namespace pamfac {

struct LoginContext {
    std::string user;
    std::string rhost;
    std::string ruser;  // PAM_RUSER: who asked, when the program says (su, sudo)
    std::string service;
    std::string tty;
    std::string host;               // this machine's name, for push messages
    const char* authtok = nullptr;  // PAM_AUTHTOK left by an earlier module; not owned
};

}  // namespace pamfac

// Who is logging in, from where, through which service: read from PAM items
// by the module, from the command line by facctl.
#pragma once

#include <string>

namespace pamfac {

struct LoginContext {
    std::string user;
    std::string ruser;  // PAM_RUSER: who asked for the login (su: the caller), when the program says
    std::string rhost;
    std::string service;
    std::string tty;
    std::string host;               // this machine's name, for push messages
    const char* authtok = nullptr;  // PAM_AUTHTOK left by an earlier module; not owned
};

// This machine's name (uname's node name), for LoginContext::host.
std::string local_host_name();

}  // namespace pamfac

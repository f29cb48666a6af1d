#include "core/login.h"

#include <sys/utsname.h>

namespace pamfac {

// uname() rather than gethostname(): the node name always fits its buffer,
// so there is no failure to invent a name for.
std::string local_host_name() {
    struct utsname names {};
    uname(&names);
    return names.nodename;
}

}  // namespace pamfac

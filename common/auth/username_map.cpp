#include "auth/username_map.h"

#include "core/text.h"

namespace pamfac {

std::string map_username(const std::string& user, bool strip_domain, bool lowercase) {
    std::string name = user;
    if (strip_domain) {
        if (const std::size_t at = name.find('@'); at != std::string::npos && at > 0) {
            name.erase(at);
        }
        if (const std::size_t slash = name.rfind('\\'); slash != std::string::npos && slash + 1 < name.size()) {
            name.erase(0, slash + 1);
        }
    }
    return lowercase ? ascii_lower(name) : name;
}

}  // namespace pamfac

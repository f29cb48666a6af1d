#include "auth/username_map.h"

#include "core/text.h"

namespace pamfac {
namespace {

std::string strip_domain(std::string name) {
    if (const std::size_t at = name.find('@'); at != std::string::npos && at > 0) {
        name.erase(at);
    }
    if (const std::size_t slash = name.rfind('\\'); slash != std::string::npos && slash + 1 < name.size()) {
        name.erase(0, slash + 1);
    }
    return name;
}

}  // namespace

std::string map_username(const std::string& user, const std::vector<UsernameMapStep>& steps) {
    std::string name = user;
    for (const UsernameMapStep& step : steps) {
        switch (step.kind) {
        case UsernameMapStep::Kind::StripDomain:
            name = strip_domain(std::move(name));
            break;
        case UsernameMapStep::Kind::Lowercase:
            name = ascii_lower(name);
            break;
        case UsernameMapStep::Kind::File:
            if (const auto it = step.names.find(name); it != step.names.end()) {
                name = it->second;
            }
            break;
        }
    }
    return name;
}

const std::string& fac_subject(const Config& config, const LoginContext& login) {
    return config.fac_username == FacUsername::Ruser && !login.ruser.empty() ? login.ruser : login.user;
}

}  // namespace pamfac

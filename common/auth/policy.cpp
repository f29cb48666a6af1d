#include "auth/policy.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/network.h"

namespace pamfac {
namespace {

// Runs a reentrant NSS lookup, growing `buf` while it says ERANGE. The
// result's strings point into `buf`, so the caller keeps it alive.
template <class Lookup>
bool nss_lookup(std::vector<char>& buf, Lookup lookup) {
    buf.resize(1024);
    for (;;) {
        const int rc = lookup(buf);
        if (rc != ERANGE || buf.size() > (1U << 20)) {
            return rc == 0;
        }
        buf.resize(buf.size() * 2);
    }
}

}  // namespace

std::optional<std::vector<std::string>> NssGroupDirectory::groups_of(const std::string& user) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf;
    if (!nss_lookup(buf,
                    [&](std::vector<char>& b) { return getpwnam_r(user.c_str(), &pw, b.data(), b.size(), &found); }) ||
        found == nullptr) {
        return std::nullopt;
    }
    const gid_t primary = pw.pw_gid;
    int count = 32;
    std::vector<gid_t> gids(static_cast<std::size_t>(count));
    while (getgrouplist(user.c_str(), primary, gids.data(), &count) < 0) {
        if (count > 65536) {
            return std::nullopt;
        }
        gids.resize(static_cast<std::size_t>(count));
    }
    gids.resize(static_cast<std::size_t>(count));
    std::vector<std::string> names;
    for (gid_t gid : gids) {
        group gr{};
        group* g = nullptr;
        if (nss_lookup(buf, [&](std::vector<char>& b) { return getgrgid_r(gid, &gr, b.data(), b.size(), &g); }) &&
            g != nullptr) {
            names.emplace_back(g->gr_name);  // copied while buf still holds it
        }
    }
    return names;
}

bool NssGroupDirectory::group_exists(const std::string& name) {
    group gr{};
    group* g = nullptr;
    std::vector<char> buf;
    return nss_lookup(buf,
                      [&](std::vector<char>& b) { return getgrnam_r(name.c_str(), &gr, b.data(), b.size(), &g); }) &&
           g != nullptr;
}

PolicyDecision decide_policy(const Config& config, const LoginContext& login, GroupDirectory& directory) {
    using Kind = PolicyDecision::Kind;
    for (const Network& network : config.trusted_networks) {
        if (network_contains(network, login.rhost)) {
            return {Kind::Skip, "rhost " + login.rhost + " is in trusted_networks"};
        }
    }
    if (config.groups.empty() && config.exempt_groups.empty()) {
        return {Kind::Apply, ""};
    }
    // A group name that does not exist is a typo: refusing it beats
    // silently selecting nobody.
    for (const auto* list : {&config.groups, &config.exempt_groups}) {
        for (const std::string& name : *list) {
            if (!directory.group_exists(name)) {
                return {Kind::Error, config.groups_where + ": group '" + name + "' does not exist"};
            }
        }
    }
    const std::optional<std::vector<std::string>> member_of = directory.groups_of(login.user);
    if (!member_of) {
        return {Kind::Apply, ""};  // no local account to judge: FAC decides
    }
    const auto in = [&member_of](const std::string& name) {
        return std::find(member_of->begin(), member_of->end(), name) != member_of->end();
    };
    for (const std::string& name : config.exempt_groups) {
        if (in(name)) {
            return {Kind::Skip, "user is in exempt group " + name};
        }
    }
    if (!config.groups.empty() && std::none_of(config.groups.begin(), config.groups.end(), in)) {
        return {Kind::Skip, "user is in none of the groups that need FAC"};
    }
    return {Kind::Apply, ""};
}

}  // namespace pamfac

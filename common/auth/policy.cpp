#include "auth/policy.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

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

std::optional<std::vector<gid_t>> NssGroupDirectory::group_ids_of(const std::string& user) {
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
    return gids;
}

std::optional<gid_t> NssGroupDirectory::group_id(const std::string& name) {
    group gr{};
    group* g = nullptr;
    std::vector<char> buf;
    if (!nss_lookup(buf, [&](std::vector<char>& b) { return getgrnam_r(name.c_str(), &gr, b.data(), b.size(), &g); }) ||
        g == nullptr) {
        return std::nullopt;
    }
    return g->gr_gid;
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
    // Each configured name resolved once. One that does not exist is a
    // typo: refusing it beats silently selecting nobody.
    std::vector<gid_t> required;
    std::vector<gid_t> exempt;  // in the order of config.exempt_groups
    for (const auto& [names, gids] :
         {std::pair{&config.groups, &required}, std::pair{&config.exempt_groups, &exempt}}) {
        for (const std::string& name : *names) {
            const std::optional<gid_t> gid = directory.group_id(name);
            if (!gid) {
                return {Kind::Error, config.groups_where + ": group '" + name + "' does not exist"};
            }
            gids->push_back(*gid);
        }
    }
    const std::optional<std::vector<gid_t>> member_of = directory.group_ids_of(login.user);
    if (!member_of) {
        return {Kind::Apply, ""};  // no local account to judge: FAC decides
    }
    const auto in = [&member_of](gid_t gid) {
        return std::find(member_of->begin(), member_of->end(), gid) != member_of->end();
    };
    for (std::size_t i = 0; i < exempt.size(); ++i) {
        if (in(exempt[i])) {
            return {Kind::Skip, "user is in exempt group " + config.exempt_groups[i]};
        }
    }
    if (!required.empty() && std::none_of(required.begin(), required.end(), in)) {
        return {Kind::Skip, "user is in none of the groups that need FAC"};
    }
    return {Kind::Apply, ""};
}

}  // namespace pamfac

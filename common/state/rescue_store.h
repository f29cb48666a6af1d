// rescue_dir (default /var/lib/pam_fac/rescue): the single-use rescue codes
// of facctl rescue, as salted yescrypt hashes (libcrypt), one root-only file
// per user, replaced atomically. Every change holds the directory's lock,
// so of two logins racing for one code exactly one gets it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"

namespace pamfac {

struct RescueUse {
    enum class Result {
        Used,        // the code matched and is gone
        Wrong,       // no code of this user matched
        Unavailable  // no usable store (missing or unsafe directory, unreadable file)
    };
    Result result = Result::Unavailable;
    std::size_t left = 0;  // codes left after this use
    std::string problem;   // Unavailable: why, for the log
};

class RescueStore {
public:
    RescueStore(std::string dir, uid_t euid);

    // Hashes `codes` and makes them the user's only ones (creating the
    // directory and its parents, 0700, when missing).
    std::optional<std::string> replace(const std::string& user, const std::vector<Secret>& codes);
    // Codes the user has left; 0 when there is no usable file.
    std::size_t count(const std::string& user) const;
    // Every user with a file, and the codes left, sorted by name.
    std::optional<std::string> list(std::vector<std::pair<std::string, std::size_t>>& out) const;
    // Removes the user's codes; `removed` tells how many there were.
    std::optional<std::string> revoke(const std::string& user, std::size_t& removed);
    // Checks `code` (as the user typed it, normalised) against the user's
    // hashes and removes the one it matches.
    RescueUse consume(const std::string& user, std::string_view code);

private:
    struct Codes {
        std::vector<std::string> hashes;
    };
    std::optional<Codes> read(const std::string& user) const;
    std::optional<std::string> write(const std::string& user, const Codes& codes);

    std::string dir_;
    uid_t euid_;
};

}  // namespace pamfac

// state_dir (default /run/pam_fac): small records the module keeps between
// logins. It must be a directory owned by the module's user (root) that
// nobody else can write; otherwise it is not used, and the module works
// without it. Files in it are replaced atomically, readable by the owner only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/secret.h"

namespace pamfac {

// Why state_dir, or a record in it, cannot be used, and what to fix. The
// module then works without the record (pam_fac.conf(5), state_dir).
struct StateError {
    std::string message;
};

// A record's file name: `prefix` and a stable 64-bit hash of `key`. Records
// whose key matters (grace periods) also store the key, so a collision can
// never stand for another key.
[[nodiscard]] std::string state_record_name(std::string_view prefix, std::string_view key);

// Creates `path` (mode 0700) if it is missing and checks it.
[[nodiscard]] std::optional<StateError> prepare_state_dir(const std::string& path, uid_t euid);

// How much a record is worth a wait: Durable records (rescue codes: a code
// used must stay used, and the rest by default) are fsync()ed before the
// rename; a Hint (server health) is not, since losing one to a crash only
// costs one more try of a dead server, and the fsync would sit between a
// failed server and the next one (milliseconds on a busy disk).
enum class Durability { Durable, Hint };

// Writes `name` in `dir` through a temporary file and rename(2), mode 0600.
[[nodiscard]] std::optional<StateError> replace_state_file(const std::string& dir, const std::string& name,
                                                           std::string_view contents,
                                                           Durability durability = Durability::Durable);

// Reads `name` from `dir` if it is a regular file owned by `euid` with no
// group or other access; nullopt otherwise (including when it is missing).
[[nodiscard]] std::optional<Secret> read_state_file(const std::string& dir, const std::string& name, uid_t euid);

}  // namespace pamfac

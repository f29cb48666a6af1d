// facctl check --service: a PAM service's stack read the way Linux-PAM
// reads it (pam.conf(5)), so that the pam_fac.so lines and their arguments
// are the ones a login of that service would run.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace facctl {

struct PamModuleLine {
    std::string where;              // "/etc/pam.d/sudo:5"
    std::string text;               // the line as written, comments and continuations joined
    std::string type;               // auth, account, password, session ("-" prefix dropped)
    std::vector<std::string> args;  // the module arguments, [brackets] resolved
};

struct PamServiceStack {
    std::vector<std::string> files;        // every file read, the service's own first
    std::vector<PamModuleLine> fac_lines;  // the pam_fac.so lines, in stack order
};

// Reads <pam_dir>/<service>, following "@include FILE" and the include and
// substack controls into further files of pam_dir (or absolute paths).
// Returns a one-line error when the service's file or an included one cannot
// be read, an include loops, or a line cannot be parsed.
std::optional<std::string> read_pam_service(const std::string& pam_dir, const std::string& service,
                                            PamServiceStack& out);

}  // namespace facctl

// The module's configuration: the file of pam_fac.conf(5) and the module
// arguments of pam_fac(8), OPTIONS, parsed strictly. Immutable once loaded.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/network.h"
#include "core/secret.h"

namespace pamfac {

enum class SecondFactor { Code, Push, CodeOrPush, None };
enum class FailMode { Secure, Safe };
enum class UnknownUserPolicy { Deny, Ignore };
enum class AuthtokSource { Prompt, UseFirstPass, TryFirstPass };
enum class BackendKind { Fac, Ftc };
enum class FacUsername { User, Ruser };
enum class RescueMode { Offline, Yes, No };

// One step of username_map, applied in the order given.
struct UsernameMapStep {
    enum class Kind { StripDomain, Lowercase, File };
    Kind kind = Kind::StripDomain;
    std::string path;                                       // File: the map file
    std::map<std::string, std::string, std::less<>> names;  // File: local_name -> fac_name, read by load_config
};

inline constexpr const char* kDefaultConfigPath = "/etc/security/pam_fac.conf";
inline constexpr const char* kDefaultPushMessage = "{service} login to {host} as {user} from {rhost}";
inline constexpr const char* kDefaultFtcServer = "https://ftc.fortinet.com:9696";
inline constexpr const char* kDefaultStateDir = "/run/pam_fac";
inline constexpr const char* kDefaultRescueDir = "/var/lib/pam_fac/rescue";

struct Config {
    std::string path = kDefaultConfigPath;

    std::vector<std::string> servers;
    std::string api_user;
    Secret api_key;
    std::string realm;
    bool password = false;
    SecondFactor second_factor = SecondFactor::CodeOrPush;
    bool otp_append = false;
    bool autopush = false;
    int tries = 3;
    bool echo_code = false;
    long connect_timeout_ms = 3000;
    long timeout_ms = 10000;
    long push_timeout_ms = 60000;
    std::string push_message = kDefaultPushMessage;
    FailMode failmode = FailMode::Secure;
    UnknownUserPolicy unknown_user = UnknownUserPolicy::Deny;
    std::string ca_file;
    std::string ca_path;
    std::string pinned_pubkey;
    bool tls_verify = true;
    std::string http_proxy;
    std::string user_agent = std::string("pam_fac/") + PAMFAC_VERSION;
    bool debug = false;
    std::string state_dir = kDefaultStateDir;
    long server_retry_after_s = 60;

    std::vector<std::string> groups;         // users in one of these need FAC
    std::vector<std::string> exempt_groups;  // "!group": users in these never do
    std::string groups_where;                // "<file>:<line>" of the groups setting, for errors
    std::vector<Network> trusted_networks;
    std::vector<UsernameMapStep> username_map;
    std::string username_map_where;  // "<file>:<line>" of the username_map setting, for errors
    FacUsername fac_username = FacUsername::User;
    long offline_grace_s = 0;
    RescueMode rescue_codes = RescueMode::Offline;
    std::string rescue_dir = kDefaultRescueDir;
    long grace_period_s = 0;

    BackendKind backend = BackendKind::Fac;
    std::string ftc_client_id;
    Secret ftc_client_secret;
    std::string vdom;
    std::string ftc_sn;
    long poll_interval_ms = 1000;

    AuthtokSource authtok_source = AuthtokSource::Prompt;
    bool forward_pass = false;
};

struct ConfigError {
    std::string message;  // "<file>:<line>: <problem>" or "module argument '<arg>': <problem>"
};

// Reads the file named by conf= (or the default) and applies the module
// arguments on top. `euid` is the uid allowed to own the file besides root.
[[nodiscard]] std::optional<ConfigError> load_config(const std::vector<std::string>& args, uid_t euid, Config& out);

// Reads a file that holds secrets under the rules of pam_fac.conf(5)
// (regular file, not a symlink, owned by root or euid, no group/other
// access). Returns an error message naming the file and what to fix.
// `readable_by_others`: the file holds no secret (username_map's file), so
// group and others may read it, but still not write it.
[[nodiscard]] std::optional<std::string> read_protected_file(const std::string& path, uid_t euid, std::size_t max_size,
                                                             Secret& contents, bool readable_by_others = false);

const char* second_factor_name(SecondFactor sf);

}  // namespace pamfac

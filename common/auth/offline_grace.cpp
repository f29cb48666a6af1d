#include "auth/offline_grace.h"

#include <dirent.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <utility>

#include "http/json_body.h"
#include "state/state_dir.h"

namespace pamfac {
namespace {

constexpr const char* kPrefix = "offline-";

// When the record says FAC accepted its user; nullopt if it is not a
// well-formed record (for `user`, when given).
std::optional<std::time_t> accepted_at(const Secret& text, const std::string* user) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("user") || !doc["user"].IsString() ||
        !doc.HasMember("accepted") || !doc["accepted"].IsInt64()) {
        return std::nullopt;
    }
    if (user != nullptr && std::string(doc["user"].GetString(), doc["user"].GetStringLength()) != *user) {
        return std::nullopt;
    }
    return static_cast<std::time_t>(doc["accepted"].GetInt64());
}

}  // namespace

OfflineGrace::OfflineGrace(std::string state_dir, uid_t euid, Logger& logger)
    : dir_(std::move(state_dir)), euid_(euid), logger_(logger) {}

long OfflineGrace::accepted_within(const std::string& user, std::time_t now, long grace) const {
    if (grace <= 0 || prepare_state_dir(dir_, euid_)) {
        return -1;  // an unsafe state_dir is not trusted for reading either
    }
    const auto record = read_state_file(dir_, state_record_name(kPrefix, user), euid_);
    if (!record) {
        return -1;
    }
    const auto accepted = accepted_at(*record, &user);
    // A record from the future (clock set back) proves nothing.
    if (!accepted || *accepted > now || now - *accepted >= grace) {
        return -1;
    }
    return static_cast<long>(now - *accepted);
}

void OfflineGrace::remember(const std::string& user, std::time_t now, long grace) {
    if (auto problem = prepare_state_dir(dir_, euid_)) {
        logger_.warning(problem->message + "; offline_grace cannot be recorded");
        return;
    }
    if (DIR* dir = opendir(dir_.c_str())) {
        while (const dirent* entry = readdir(dir)) {
            if (std::strncmp(entry->d_name, kPrefix, std::strlen(kPrefix)) != 0) {
                continue;
            }
            const auto record = read_state_file(dir_, entry->d_name, euid_);
            const auto accepted = record ? accepted_at(*record, nullptr) : std::nullopt;
            if (!accepted || now - *accepted >= grace) {
                unlinkat(dirfd(dir), entry->d_name, 0);
            }
        }
        closedir(dir);
    }
    Secret text;
    JsonObjectBuilder json(text);
    json.add("user", user);
    json.add_integer("accepted", static_cast<std::int64_t>(now));
    if (!json.finish()) {
        logger_.warning("offline_grace not recorded: the user name is not UTF-8");
        return;
    }
    if (auto problem = replace_state_file(dir_, state_record_name(kPrefix, user), text.view())) {
        logger_.warning(problem->message + "; offline_grace not recorded");
    }
}

}  // namespace pamfac

#include "auth/grace.h"

#include <dirent.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "http/json_body.h"
#include "state/state_dir.h"

namespace pamfac {
namespace {

constexpr const char* kPrefix = "grace-";

std::string record_name(const GraceKey& key) {
    // 0xFF never occurs in UTF-8, so the parts cannot run into each other.
    return state_record_name(
        kPrefix, key.user + '\xff' + key.rhost + '\xff' + key.service + '\xff' + key.ruser + '\xff' + key.tty);
}

// The record's expiry when it matches the key exactly, else 0.
std::time_t matching_expiry(const std::string& text, const GraceKey& key) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        return 0;
    }
    const auto field = [&doc](const char* name) -> std::string {
        return doc.HasMember(name) && doc[name].IsString()
                   ? std::string(doc[name].GetString(), doc[name].GetStringLength())
                   : std::string("\x01");  // never equal to a valid value
    };
    if (field("user") != key.user || field("rhost") != key.rhost || field("service") != key.service ||
        field("ruser") != key.ruser || field("tty") != key.tty || !doc.HasMember("expires") ||
        !doc["expires"].IsInt64()) {
        return 0;
    }
    return static_cast<std::time_t>(doc["expires"].GetInt64());
}

}  // namespace

GraceKey grace_key(const LoginContext& login) {
    if (!login.rhost.empty()) {
        return GraceKey{login.user, login.rhost, login.service, "", ""};
    }
    return GraceKey{login.user, "", login.service, login.ruser, login.tty};
}

GraceRecords::GraceRecords(std::string state_dir, uid_t euid, Logger& logger)
    : dir_(std::move(state_dir)), euid_(euid), logger_(logger) {}

long GraceRecords::seconds_left(const GraceKey& key, std::time_t now, long period) const {
    if (prepare_state_dir(dir_, euid_)) {
        return 0;  // an unsafe state_dir is not trusted for reading either
    }
    const auto record = read_state_file(dir_, record_name(key), euid_);
    if (!record) {
        return 0;
    }
    const std::time_t expires = matching_expiry(std::string(record->view()), key);
    // Capped by the period in force: lowering grace_period shortens the
    // periods already running.
    return expires > now ? std::min(static_cast<long>(expires - now), period) : 0;
}

void GraceRecords::remember(const GraceKey& key, std::time_t expires_at, std::time_t now) {
    if (auto problem = prepare_state_dir(dir_, euid_)) {
        logger_.warning(problem->message + "; grace_period cannot be recorded");
        return;
    }
    if (DIR* dir = opendir(dir_.c_str())) {
        while (const dirent* entry = readdir(dir)) {
            if (std::strncmp(entry->d_name, kPrefix, std::strlen(kPrefix)) != 0) {
                continue;
            }
            const auto record = read_state_file(dir_, entry->d_name, euid_);
            rapidjson::Document doc;
            if (record) {
                doc.Parse<rapidjson::kParseIterativeFlag>(record->c_str(), record->size());
            }
            const bool expired = !record || doc.HasParseError() || !doc.IsObject() || !doc.HasMember("expires") ||
                                 !doc["expires"].IsInt64() || doc["expires"].GetInt64() <= now;
            if (expired) {
                unlinkat(dirfd(dir), entry->d_name, 0);
            }
        }
        closedir(dir);
    }
    Secret text;
    JsonObjectBuilder json(text);
    json.add("user", key.user);
    json.add("rhost", key.rhost);
    json.add("service", key.service);
    json.add("ruser", key.ruser);
    json.add("tty", key.tty);
    json.add_integer("expires", static_cast<std::int64_t>(expires_at));
    if (!json.finish()) {
        logger_.warning("grace_period not recorded: user, rhost, service, ruser or tty is not UTF-8");
        return;
    }
    if (auto problem = replace_state_file(dir_, record_name(key), text.view())) {
        logger_.warning(problem->message + "; grace_period not recorded");
    }
}

}  // namespace pamfac

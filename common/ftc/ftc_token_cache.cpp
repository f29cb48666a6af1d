#include "ftc/ftc_token_cache.h"

#include <rapidjson/document.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "http/json_body.h"
#include "state/state_dir.h"

namespace pamfac {
namespace {

// Tokens this close to expiry are renewed rather than used.
constexpr std::time_t kExpiryMargin = 60;

}  // namespace

FtcTokenCache::FtcTokenCache(std::string state_dir, const std::string& server, const std::string& client_id, uid_t euid,
                             Logger& logger)
    : dir_(std::move(state_dir)), euid_(euid), logger_(logger) {
    name_ = state_record_name("ftc-token-", server + "\n" + client_id);
}

std::optional<Secret> FtcTokenCache::load(std::time_t now) const {
    if (prepare_state_dir(dir_, euid_)) {
        return std::nullopt;  // an unsafe state_dir is not trusted for reading either
    }
    const std::optional<Secret> text = read_state_file(dir_, name_, euid_);
    if (!text) {
        return std::nullopt;
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text->c_str(), text->size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("access_token") || !doc["access_token"].IsString() ||
        !doc.HasMember("expires_at") || !doc["expires_at"].IsInt64()) {
        return std::nullopt;
    }
    if (doc["expires_at"].GetInt64() <= static_cast<std::int64_t>(now + kExpiryMargin)) {
        return std::nullopt;
    }
    Secret token(std::string_view(doc["access_token"].GetString(), doc["access_token"].GetStringLength()));
    // The parsed copy lives in RapidJSON's allocator: wipe it before it goes.
    rapidjson::Value& parsed = doc["access_token"];
    wipe_memory(const_cast<char*>(parsed.GetString()), parsed.GetStringLength());
    return token;
}

void FtcTokenCache::store(const Secret& token, std::time_t expires_at) {
    if (auto problem = prepare_state_dir(dir_, euid_)) {
        logger_.warning(problem->message + "; the FortiToken Cloud token is not cached");
        return;
    }
    Secret text;
    JsonObjectBuilder json(text);
    json.add("access_token", token.view());
    json.add_integer("expires_at", static_cast<std::int64_t>(expires_at));
    if (!json.finish()) {
        return;  // a token that is not UTF-8 is used, not cached
    }
    if (auto problem = replace_state_file(dir_, name_, text.view())) {
        logger_.warning(problem->message + "; the FortiToken Cloud token is not cached");
    }
}

void FtcTokenCache::forget() {
    ::unlink((dir_ + "/" + name_).c_str());
}

}  // namespace pamfac

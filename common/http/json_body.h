// Request bodies are JSON objects written with RapidJSON straight into a
// wiping Secret buffer, so a password never lands in an ordinary string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"

namespace pamfac {

class JsonObjectBuilder {
public:
    explicit JsonObjectBuilder(Secret& out);
    JsonObjectBuilder(const JsonObjectBuilder&) = delete;
    JsonObjectBuilder& operator=(const JsonObjectBuilder&) = delete;
    ~JsonObjectBuilder();

    // False when the value is not valid UTF-8; the body is then unusable.
    bool add(std::string_view key, std::string_view value);
    bool add_integer(std::string_view key, std::int64_t value);
    bool finish();

private:
    struct Impl;
    Impl* impl_;
};

// The first string found in a JSON object or array, e.g. {"error": "Account
// is disabled"}; empty when the text is not JSON or holds no string.
std::string first_json_string(std::string_view text);

// Every string value of a JSON text, in document order, down to a depth of
// 4 and at most `limit` of them; empty when the text is not JSON.
std::vector<std::string> json_string_values(std::string_view text, std::size_t limit);

// True for a JSON object that has no "error", "errors" or "detail" member:
// how a yes may look when it has a body at all.
bool is_json_object_without_error(std::string_view text);

}  // namespace pamfac

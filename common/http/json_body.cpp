#include "http/json_body.h"

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <string>

#include "core/text.h"

namespace pamfac {
namespace {

// A RapidJSON output stream appending to a Secret.
class SecretStream {
public:
    using Ch = char;
    explicit SecretStream(Secret& out) : out_(out) {}
    void Put(char c) { out_.push_back(c); }
    void Flush() {}

private:
    Secret& out_;
};

// Encoding is checked up front (is_valid_utf8): RapidJSON's own check reads
// a multi-byte character's tail without regard to the length it was given.
using Writer = rapidjson::Writer<SecretStream>;

std::string find_string(const rapidjson::Value& v, int depth) {
    if (v.IsString()) {
        return std::string(v.GetString(), v.GetStringLength());
    }
    if (depth > 4) {
        return {};
    }
    if (v.IsObject()) {
        for (const auto& member : v.GetObject()) {
            if (std::string s = find_string(member.value, depth + 1); !s.empty()) {
                return s;
            }
        }
    } else if (v.IsArray()) {
        for (const auto& item : v.GetArray()) {
            if (std::string s = find_string(item, depth + 1); !s.empty()) {
                return s;
            }
        }
    }
    return {};
}

void collect_strings(const rapidjson::Value& v, int depth, std::size_t limit, std::vector<std::string>& out) {
    if (out.size() >= limit) {
        return;
    }
    if (v.IsString()) {
        out.emplace_back(v.GetString(), v.GetStringLength());
        return;
    }
    if (depth > 4) {
        return;
    }
    if (v.IsObject()) {
        for (const auto& member : v.GetObject()) {
            collect_strings(member.value, depth + 1, limit, out);
        }
    } else if (v.IsArray()) {
        for (const auto& item : v.GetArray()) {
            collect_strings(item, depth + 1, limit, out);
        }
    }
}

}  // namespace

struct JsonObjectBuilder::Impl {
    explicit Impl(Secret& out) : stream(out), writer(stream) {}
    SecretStream stream;
    Writer writer;
    bool ok = true;
};

JsonObjectBuilder::JsonObjectBuilder(Secret& out) : impl_(new Impl(out)) {
    out.clear();
    impl_->ok = impl_->writer.StartObject();
}

JsonObjectBuilder::~JsonObjectBuilder() {
    delete impl_;
}

bool JsonObjectBuilder::add(std::string_view key, std::string_view value) {
    if (!is_valid_utf8(key) || !is_valid_utf8(value)) {
        impl_->ok = false;
    }
    if (impl_->ok) {
        impl_->ok = impl_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size())) &&
                    impl_->writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    return impl_->ok;
}

bool JsonObjectBuilder::add_integer(std::string_view key, std::int64_t value) {
    if (!is_valid_utf8(key)) {
        impl_->ok = false;
    }
    if (impl_->ok) {
        impl_->ok =
            impl_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size())) && impl_->writer.Int64(value);
    }
    return impl_->ok;
}

bool JsonObjectBuilder::finish() {
    if (impl_->ok) {
        impl_->ok = impl_->writer.EndObject();
    }
    return impl_->ok;
}

std::string first_json_string(std::string_view text) {
    // Iterative: a server's answer nested 60000 deep must not overflow the
    // host thread's stack (RapidJSON's default parser recurses). The pool
    // allocator frees the tree without recursing either.
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (doc.HasParseError()) {
        return {};
    }
    return find_string(doc, 0);
}

std::vector<std::string> json_string_values(std::string_view text, std::size_t limit) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    std::vector<std::string> values;
    if (!doc.HasParseError()) {
        collect_strings(doc, 0, limit, values);
    }
    return values;
}

bool is_json_object_without_error(std::string_view text) {
    // RapidJSON skips stray bytes of a UTF-8 byte order mark (EF, BB, BF)
    // before the text: "\xbb{}" would pass for an object.
    if (text.empty() || text.front() != '{') {
        return false;
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    return !doc.HasParseError() && doc.IsObject() && !doc.HasMember("error") && !doc.HasMember("errors") &&
           !doc.HasMember("detail");
}

}  // namespace pamfac

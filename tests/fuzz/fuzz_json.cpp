// libFuzzer target: the JSON reader and writer.
//
// - first_json_string() over arbitrary text (FAC's JSON-wrapped messages):
//   no crash however the text is nested;
// - JsonObjectBuilder round trip: the input is split at NUL bytes into a
//   key, a value and a third value; the built object must parse back
//   (strictly, with UTF-8 validation) to exactly those bytes, and the
//   builder must refuse (return false) exactly when some part is not UTF-8.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/text.h"
#include "fuzz_check.h"
#include "http/json_body.h"

using fuzzcheck::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // The reader: anything goes in.
    const std::string found = pamfac::first_json_string(input);
    require(found.size() <= input.size(), "a found string is no longer than the text");

    // The writer.
    const std::size_t a = input.find('\0');
    const std::string_view key = input.substr(0, a);
    const std::string_view rest = a == std::string_view::npos ? std::string_view() : input.substr(a + 1);
    const std::size_t b = rest.find('\0');
    const std::string_view value = rest.substr(0, b);
    const std::string_view third = b == std::string_view::npos ? std::string_view() : rest.substr(b + 1);

    pamfac::Secret out;
    bool ok = false;
    {
        pamfac::JsonObjectBuilder json(out);
        const bool added = json.add(key, value) && json.add("third", third);
        ok = added && json.finish();
    }
    const bool valid = pamfac::is_valid_utf8(key) && pamfac::is_valid_utf8(value) && pamfac::is_valid_utf8(third);
    require(ok == valid, "the builder refuses exactly the input that is not UTF-8");
    if (!ok) {
        return 0;
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(out.c_str(), out.size());
    require(!doc.HasParseError(), "the built body parses back");
    require(doc.IsObject() && doc.MemberCount() == 2, "two members");
    auto member = doc.MemberBegin();
    require(std::string_view(member->name.GetString(), member->name.GetStringLength()) == key, "key round trip");
    require(member->value.IsString() &&
                std::string_view(member->value.GetString(), member->value.GetStringLength()) == value,
            "value round trip");
    ++member;
    require(member->value.IsString() &&
                std::string_view(member->value.GetString(), member->value.GetStringLength()) == third,
            "third value round trip");
    // The reader finds the first non-empty string value.
    const std::string first = pamfac::first_json_string(out.view());
    if (!value.empty()) {
        require(first == value, "first_json_string finds the first value");
    } else if (!third.empty()) {
        require(first == third, "first_json_string skips an empty value");
    }
    return 0;
}

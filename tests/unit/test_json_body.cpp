// Unit tests of common/http/json_body.h: request bodies written by
// JsonObjectBuilder parse back (with RapidJSON) to exactly the bytes put in,
// invalid UTF-8 is refused, and first_json_string reads FAC's wrappers.
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"
#include "http/json_body.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Builds a body from `fields`, parses it back and checks every member
// (order, keys and values byte for byte).
void round_trip(const Fields& fields) {
    Secret body;
    {
        JsonObjectBuilder builder(body);
        for (const auto& [key, value] : fields) {
            assert_true(builder.add(key, value));
        }
        assert_true(builder.finish());
    }
    rapidjson::Document doc;
    doc.Parse(body.view().data(), body.size());
    if (doc.HasParseError()) {
        fail_msg("body does not parse: %s", std::string(body.view()).c_str());
    }
    assert_true(doc.IsObject());
    assert_int_equal(doc.MemberCount(), fields.size());
    std::size_t i = 0;
    for (const auto& member : doc.GetObject()) {
        const std::string& key = fields[i].first;
        const std::string& value = fields[i].second;
        assert_true(member.name.IsString());
        assert_true(std::string_view(member.name.GetString(), member.name.GetStringLength()) == key);
        assert_true(member.value.IsString());
        assert_int_equal(member.value.GetStringLength(), value.size());
        assert_memory_equal(member.value.GetString(), value.data(), value.size());
        ++i;
    }
}

void builds_exact_compact_object(void** /*state*/) {
    Secret body;
    JsonObjectBuilder builder(body);
    assert_true(builder.add("username", "alice"));
    assert_true(builder.add("token_code", "123456"));
    assert_true(builder.finish());
    assert_true(body.view() == "{\"username\":\"alice\",\"token_code\":\"123456\"}");
}

void empty_object(void** /*state*/) {
    Secret body;
    JsonObjectBuilder builder(body);
    assert_true(builder.finish());
    assert_true(body.view() == "{}");
}

void builder_replaces_previous_contents(void** /*state*/) {
    Secret body("stale contents");
    JsonObjectBuilder builder(body);
    assert_true(builder.add("a", "b"));
    assert_true(builder.finish());
    assert_true(body.view() == "{\"a\":\"b\"}");
}

void empty_value_round_trips(void** /*state*/) {
    round_trip({{"username", "alice"}, {"token_code", ""}});
}

void quotes_and_backslashes_round_trip(void** /*state*/) {
    round_trip({{"username", "CORP\\alice"}, {"password", "p\"a\\s\\\"s'"}, {"x", "\\u0041"}, {"y", "</script>"}});
}

void control_chars_round_trip(void** /*state*/) {
    round_trip({{"password",
                 "a\x01"
                 "b\nc\td\re\x1f"
                 "f\x7f"},
                {"log_message", "\b\f\x1b[31m"}});
}

void control_chars_are_escaped(void** /*state*/) {
    Secret body;
    JsonObjectBuilder builder(body);
    assert_true(builder.add("p", "\x01\n\t"));
    assert_true(builder.finish());
    for (char c : body.view()) {
        assert_true(static_cast<unsigned char>(c) >= 0x20);
    }
}

void nul_byte_round_trips(void** /*state*/) {
    round_trip({{"password", std::string("a\0b", 3)}});
}

void non_ascii_and_emoji_round_trip(void** /*state*/) {
    round_trip({{"username", "j\xC3\xB6rg"},
                {"password", "\xE5\xAF\x86\xE7\xA0\x81\xF0\x9F\x98\x80\xF0\x9F\x94\x91"},
                {"log_message", "sshd login to h\xC3\xB4te as \xE2\x82\xAC from local"}});
}

void password_512_bytes_round_trips(void** /*state*/) {
    std::string password;
    for (int i = 0; password.size() < 512; ++i) {
        password += static_cast<char>(0x20 + i % 0x5f);  // every printable ASCII byte, '"' and '\\' included
    }
    assert_int_equal(password.size(), 512);
    round_trip({{"username", "alice"}, {"password", password}, {"token_code", ""}});

    std::string utf8;  // 128 four-byte characters
    while (utf8.size() < 512) {
        utf8 += "\xF0\x9F\x98\x80";
    }
    round_trip({{"password", utf8}});
}

void invalid_utf8_value_refused(void** /*state*/) {
    const char* bad[] = {"caf\xE9", "\xFF", "\xC0\x80", "\xED\xA0\x80", "abc\xF0\x9F", "\xF4\x90\x80\x80"};
    for (const char* value : bad) {
        Secret body;
        JsonObjectBuilder builder(body);
        assert_true(builder.add("username", "alice"));
        assert_false(builder.add("password", value));
        assert_false(builder.finish());
    }
}

void latin1_password_refused(void** /*state*/) {
    // A password typed on an ISO-8859-1 terminal: "aaa...\xE9" on the heap.
    // In a sanitizer build this also checks nothing is read past its end
    // (see value_view_not_read_past_its_end).
    const Secret password(std::string(30, 'a') + "\xE9");
    Secret body;
    JsonObjectBuilder builder(body);
    assert_false(builder.add("password", password.view()));
}

void value_view_not_read_past_its_end(void** /*state*/) {
    // RapidJSON's own encoding check reads a multi-byte character's tail
    // past the view it was given; a value cut inside a character must be
    // refused, not completed from the bytes that follow.
    const char buffer[] = "ab\xC3\xA9";
    Secret body;
    JsonObjectBuilder builder(body);
    const bool added = builder.add("p", std::string_view(buffer, 3));
    if (added) {
        builder.finish();
        fail_msg("add() accepted a truncated UTF-8 value; body: %s", std::string(body.view()).c_str());
    }
}

void failure_is_sticky(void** /*state*/) {
    Secret body;
    JsonObjectBuilder builder(body);
    assert_false(builder.add("password", "\xFF"));
    assert_false(builder.add("username", "alice"));
    assert_false(builder.finish());
}

void invalid_utf8_key_refused(void** /*state*/) {
    Secret body;
    JsonObjectBuilder builder(body);
    assert_false(builder.add("k\xFF", "v"));
}

// --- first_json_string ------------------------------------------------------

void first_string_of_error_wrapper(void** /*state*/) {
    assert_string_equal(first_json_string("{\"error\": \"Account is disabled\"}").c_str(), "Account is disabled");
    assert_string_equal(first_json_string("{\"detail\":\"No token configured\"}").c_str(), "No token configured");
}

void first_string_skips_non_strings(void** /*state*/) {
    assert_string_equal(first_json_string("{\"status\": 401, \"ok\": false, \"error\": \"x\"}").c_str(), "x");
    assert_string_equal(first_json_string("{\"empty\": \"\", \"error\": \"y\"}").c_str(), "y");
}

void first_string_in_array_and_nested(void** /*state*/) {
    assert_string_equal(first_json_string("[\"User does not exist\"]").c_str(), "User does not exist");
    assert_string_equal(first_json_string("{\"errors\": [{\"message\": \"deep\"}]}").c_str(), "deep");
}

void first_string_none(void** /*state*/) {
    assert_string_equal(first_json_string("").c_str(), "");
    assert_string_equal(first_json_string("User authentication failed").c_str(), "");
    assert_string_equal(first_json_string("{\"a\": 1, \"b\": [2, null]}").c_str(), "");
    assert_string_equal(first_json_string("{\"a\": \"unterminated}").c_str(), "");
    assert_string_equal(first_json_string("{}").c_str(), "");
}

void first_string_depth_limited(void** /*state*/) {
    assert_string_equal(first_json_string("[[[[[\"five\"]]]]]").c_str(), "five");
    assert_string_equal(first_json_string("[[[[[[[[[[\"too deep\"]]]]]]]]]]").c_str(), "");
}

void first_string_not_nul_terminated(void** /*state*/) {
    // The view ends before the closing brace: not valid JSON.
    const std::string text = "{\"error\": \"x\"}{";
    assert_string_equal(first_json_string(std::string_view(text).substr(0, text.size() - 2)).c_str(), "");
    assert_string_equal(first_json_string(std::string_view(text).substr(0, text.size() - 1)).c_str(), "x");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builds_exact_compact_object),
        cmocka_unit_test(empty_object),
        cmocka_unit_test(builder_replaces_previous_contents),
        cmocka_unit_test(empty_value_round_trips),
        cmocka_unit_test(quotes_and_backslashes_round_trip),
        cmocka_unit_test(control_chars_round_trip),
        cmocka_unit_test(control_chars_are_escaped),
        cmocka_unit_test(nul_byte_round_trips),
        cmocka_unit_test(non_ascii_and_emoji_round_trip),
        cmocka_unit_test(password_512_bytes_round_trips),
        cmocka_unit_test(invalid_utf8_value_refused),
        cmocka_unit_test(latin1_password_refused),
        cmocka_unit_test(value_view_not_read_past_its_end),
        cmocka_unit_test(failure_is_sticky),
        cmocka_unit_test(invalid_utf8_key_refused),
        cmocka_unit_test(first_string_of_error_wrapper),
        cmocka_unit_test(first_string_skips_non_strings),
        cmocka_unit_test(first_string_in_array_and_nested),
        cmocka_unit_test(first_string_none),
        cmocka_unit_test(first_string_depth_limited),
        cmocka_unit_test(first_string_not_nul_terminated),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

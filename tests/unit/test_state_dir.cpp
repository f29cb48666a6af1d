// Unit tests of common/state/state_dir.h: the root-only directory of records
// kept between logins (pam_fac.conf(5), state_dir): its checks, the atomic
// replacement of a record and the checks on reading one. Each test works in
// its own mkdtemp() directory under /tmp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "state/state_dir.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pamfac-state-dir-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() {
        const int rc = std::system(("rm -rf '" + path + "'").c_str());
        (void)rc;  // best effort
    }
};

void write_raw(const std::string& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    assert_int_equal(::fchmod(fd, mode), 0);
    ::close(fd);
}

void check_error(const std::optional<StateError>& error, const char* needle) {
    if (!error) {
        fail_msg("expected an error containing '%s'", needle);
    }
    if (error->message.find(needle) == std::string::npos) {
        fail_msg("error '%s' does not contain '%s'", error->message.c_str(), needle);
    }
}

void record_names_are_stable_hashes(void** /*state*/) {
    // The same name in every build and process, so records survive an
    // upgrade. (The hash's basis is 1469598103934665603, not FNV's
    // 14695981039346656037: changing it now would orphan every record.)
    assert_string_equal(state_record_name("down-", "").c_str(), "down-14650fb0739d0383");
    assert_string_equal(state_record_name("down-", "a").c_str(), "down-44bd8ad473cd9906");
    assert_string_equal(state_record_name("x-", "https://fac1").c_str(),
                        state_record_name("x-", "https://fac1").c_str());
    assert_string_not_equal(state_record_name("x-", "https://fac1").c_str(),
                            state_record_name("x-", "https://fac2").c_str());
}

void prepare_creates_a_private_directory(void** /*state*/) {
    TempDir t;
    const std::string dir = t.path + "/state";
    assert_false(prepare_state_dir(dir, geteuid()).has_value());
    struct stat st {};
    assert_int_equal(::lstat(dir.c_str(), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_false(prepare_state_dir(dir, geteuid()).has_value());  // an existing one is fine
}

void prepare_refuses_unsafe_directories(void** /*state*/) {
    TempDir t;
    const std::string dir = t.path + "/state";
    assert_false(prepare_state_dir(dir, geteuid()).has_value());
    ::chmod(dir.c_str(), 0770);
    check_error(prepare_state_dir(dir, geteuid()), "chmod 700");
    ::chmod(dir.c_str(), 0707);
    check_error(prepare_state_dir(dir, geteuid()), "writable by group or others");
    ::chmod(dir.c_str(), 0700);
    check_error(prepare_state_dir(dir, geteuid() + 1), "owned by uid");
    assert_int_equal(::symlink(dir.c_str(), (t.path + "/link").c_str()), 0);
    check_error(prepare_state_dir(t.path + "/link", geteuid()), "symbolic link");
    write_raw(t.path + "/file", "x", 0600);
    check_error(prepare_state_dir(t.path + "/file", geteuid()), "not a directory");
    check_error(prepare_state_dir(t.path + "/missing/state", geteuid()), "cannot be created");
}

void replace_writes_an_owner_only_file(void** /*state*/) {
    TempDir t;
    assert_false(replace_state_file(t.path, "rec", "first").has_value());
    assert_false(replace_state_file(t.path, "rec", "second").has_value());
    struct stat st {};
    assert_int_equal(::stat((t.path + "/rec").c_str(), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    const auto text = read_state_file(t.path, "rec", geteuid());
    assert_true(text.has_value());
    assert_string_equal(text->c_str(), "second");
    // No temporary file is left behind.
    assert_int_equal(std::system(("test $(ls -A '" + t.path + "' | wc -l) -eq 1").c_str()), 0);
    check_error(replace_state_file(t.path + "/missing", "rec", "x"), "cannot write in");
}

void read_checks_owner_mode_and_type(void** /*state*/) {
    TempDir t;
    assert_false(read_state_file(t.path, "missing", geteuid()).has_value());
    write_raw(t.path + "/rec", "hello", 0600);
    assert_true(read_state_file(t.path, "rec", geteuid()).has_value());
    assert_false(read_state_file(t.path, "rec", geteuid() + 1).has_value());  // someone else's
    ::chmod((t.path + "/rec").c_str(), 0640);
    assert_false(read_state_file(t.path, "rec", geteuid()).has_value());
    ::chmod((t.path + "/rec").c_str(), 0604);
    assert_false(read_state_file(t.path, "rec", geteuid()).has_value());
    ::chmod((t.path + "/rec").c_str(), 0600);
    assert_int_equal(::symlink((t.path + "/rec").c_str(), (t.path + "/link").c_str()), 0);
    assert_false(read_state_file(t.path, "link", geteuid()).has_value());
    assert_int_equal(::mkdir((t.path + "/dir").c_str(), 0700), 0);
    assert_false(read_state_file(t.path, "dir", geteuid()).has_value());
}

void read_refuses_records_over_64_kib(void** /*state*/) {
    TempDir t;
    write_raw(t.path + "/big", std::string(64 * 1024, 'x'), 0600);
    assert_int_equal(read_state_file(t.path, "big", geteuid())->size(), 64 * 1024);
    write_raw(t.path + "/big", std::string(64 * 1024 + 1, 'x'), 0600);
    assert_false(read_state_file(t.path, "big", geteuid()).has_value());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_names_are_stable_hashes),     cmocka_unit_test(prepare_creates_a_private_directory),
        cmocka_unit_test(prepare_refuses_unsafe_directories), cmocka_unit_test(replace_writes_an_owner_only_file),
        cmocka_unit_test(read_checks_owner_mode_and_type),    cmocka_unit_test(read_refuses_records_over_64_kib),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

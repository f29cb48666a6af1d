// Unit tests of common/core/secret.h: Secret's value semantics (assign, append,
// clear, move leaves the source empty), wipe_memory, and that buffers a
// Secret gives back are wiped before they are freed.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "core/secret.h"
// cmocka last: its macros clash with standard headers.
#include "cmocka_cpp.h"

using namespace pamfac;

// --- a probe on the global allocator ------------------------------------------
//
// While g_probe_active is set, every block released through operator delete
// is searched for kMarker before it is freed. This observes what
// WipingAllocator::deallocate leaves behind without touching freed memory.
// operator new is replaced too, so new/delete stay a malloc/free pair (which
// also keeps AddressSanitizer builds consistent).

namespace {
constexpr char kMarker[] = "S3cr3t-MARKER-7f2a";
bool g_probe_active = false;
int g_marker_blocks_freed = 0;
int g_blocks_freed = 0;

void probe(void* p) {
    if (!g_probe_active || p == nullptr) {
        return;
    }
    ++g_blocks_freed;
    const std::size_t n = malloc_usable_size(p);
    if (memmem(p, n, kMarker, sizeof kMarker - 1) != nullptr) {
        ++g_marker_blocks_freed;
    }
}

void start_probe() {
    g_marker_blocks_freed = 0;
    g_blocks_freed = 0;
    g_probe_active = true;
}
}  // namespace

void* operator new(std::size_t n) {
    void* p = std::malloc(n == 0 ? 1 : n);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}
void operator delete(void* p) noexcept {
    probe(p);
    std::free(p);
}
void operator delete(void* p, std::size_t /*n*/) noexcept {
    probe(p);
    std::free(p);
}

namespace {

bool all_zero(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

// --- Secret ---------------------------------------------------------------------

void default_is_empty(void** /*state*/) {
    const Secret s;
    assert_true(s.empty());
    assert_int_equal(s.size(), 0);
    assert_string_equal(s.c_str(), "");
    assert_true(s.view().empty());
}

void construct_from_view(void** /*state*/) {
    const Secret s(std::string_view("p\0ss", 4));
    assert_int_equal(s.size(), 4);
    assert_memory_equal(s.view().data(), "p\0ss", 4);
}

void assign_replaces(void** /*state*/) {
    Secret s("a much longer first value that is not kept");
    s.assign("short");
    assert_true(s.view() == "short");
    assert_string_equal(s.c_str(), "short");
    s.assign("");
    assert_true(s.empty());
}

void append_and_push_back(void** /*state*/) {
    Secret s;
    s.append("pass");
    s.append("word");
    s.push_back('1');
    assert_true(s.view() == "password1");
    assert_int_equal(s.size(), 9);
    s.reserve(1000);
    assert_true(s.view() == "password1");
}

void clear_leaves_size_zero(void** /*state*/) {
    Secret s("correct horse battery staple, long enough for the heap");
    s.clear();
    assert_int_equal(s.size(), 0);
    assert_true(s.empty());
    assert_string_equal(s.c_str(), "");
    s.append("reuse");
    assert_true(s.view() == "reuse");
}

void clear_wipes_old_contents_in_place(void** /*state*/) {
    // clear() keeps the buffer (no reallocation), so its old bytes can be
    // read back through the pointer: they must all be zero.
    const std::string value = "correct horse battery staple, long enough for the heap";
    Secret s(value);
    const char* p = s.c_str();
    s.clear();
    assert_ptr_equal(p, s.c_str());
    assert_true(all_zero(p, value.size()));
}

void clear_wipes_beyond_current_size(void** /*state*/) {
    // A shorter assign() must not leave the tail of the longer old value.
    const std::string longer = "a first value that is long enough to sit on the heap";
    Secret s(longer);
    const char* p = s.c_str();
    s.assign("short");
    assert_ptr_equal(p, s.c_str());
    assert_true(s.view() == "short");
    assert_true(all_zero(p + 6, longer.size() - 6));
}

void move_construct_empties_source(void** /*state*/) {
    Secret a("a value long enough to be on the heap, not inline");
    Secret b(std::move(a));
    assert_true(b.view() == "a value long enough to be on the heap, not inline");
    assert_true(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    assert_int_equal(a.size(), 0);
}

void move_construct_wipes_inline_buffer(void** /*state*/) {
    // A short value is copied out of the source's inline buffer on a move;
    // the copy left behind must be wiped.
    Secret a("short1");
    const char* inline_buffer = a.c_str();
    Secret b(std::move(a));
    assert_true(b.view() == "short1");
    assert_true(a.empty());  // NOLINT(bugprone-use-after-move)
    assert_true(all_zero(inline_buffer, 6));
}

void move_assign_empties_source(void** /*state*/) {
    Secret a("new value");
    Secret b("old value, long enough to be on the heap somewhere");
    b = std::move(a);
    assert_true(b.view() == "new value");
    assert_true(a.empty());  // NOLINT(bugprone-use-after-move)
    assert_string_equal(a.c_str(), "");
}

void move_assign_wipes_inline_buffer(void** /*state*/) {
    Secret a("short2");
    const char* inline_buffer = a.c_str();
    Secret b;
    b = std::move(a);
    assert_true(b.view() == "short2");
    assert_true(a.empty());  // NOLINT(bugprone-use-after-move)
    assert_true(all_zero(inline_buffer, 6));
}

void move_assign_to_self_keeps_value(void** /*state*/) {
    Secret a("kept");
    Secret& alias = a;
    a = std::move(alias);
    assert_true(a.view() == "kept");
}

void moved_from_is_reusable(void** /*state*/) {
    Secret a("first");
    Secret b(std::move(a));
    a.assign("second");  // NOLINT(bugprone-use-after-move)
    assert_true(a.view() == "second");
    assert_true(b.view() == "first");
}

// --- wipe_memory ------------------------------------------------------------------

void wipe_memory_zeroes_buffer(void** /*state*/) {
    char buf[64];
    std::memset(buf, 'x', sizeof buf);
    wipe_memory(buf + 8, 32);
    assert_true(all_zero(buf + 8, 32));
    assert_int_equal(buf[7], 'x');
    assert_int_equal(buf[40], 'x');
}

void wipe_memory_edge_cases(void** /*state*/) {
    char buf[4] = {'a', 'b', 'c', 'd'};
    wipe_memory(buf, 0);
    assert_memory_equal(buf, "abcd", 4);
    wipe_memory(nullptr, 16);  // must not crash
    wipe_memory(nullptr, 0);
}

// --- WipingAllocator ----------------------------------------------------------------

void allocator_round_trip(void** /*state*/) {
    WipingAllocator<char> alloc;
    char* p = alloc.allocate(100);
    assert_non_null(p);
    std::memset(p, 'k', 100);
    alloc.deallocate(p, 100);
    assert_true(alloc == WipingAllocator<int>());
    assert_false(alloc != WipingAllocator<int>());
}

void allocator_refuses_overflowing_size(void** /*state*/) {
    WipingAllocator<std::uint64_t> alloc;
    bool threw = false;
    try {
        (void)alloc.allocate(SIZE_MAX / 4);
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    assert_true(threw);
}

void probe_sees_unwiped_free(void** /*state*/) {
    // Control: an ordinary std::string freed with the marker is seen, so the
    // probe can tell a wiped buffer from an unwiped one.
    start_probe();
    {
        std::string plain(kMarker);
        plain += " padding to leave the inline buffer";
    }
    g_probe_active = false;
    assert_true(g_blocks_freed >= 1);
    assert_true(g_marker_blocks_freed >= 1);
}

void allocator_deallocate_wipes(void** /*state*/) {
    WipingAllocator<char> alloc;
    char* p = alloc.allocate(sizeof kMarker + 32);
    std::memcpy(p, kMarker, sizeof kMarker);
    start_probe();
    alloc.deallocate(p, sizeof kMarker + 32);
    g_probe_active = false;
    assert_int_equal(g_blocks_freed, 1);
    assert_int_equal(g_marker_blocks_freed, 0);
}

void secret_growth_wipes_old_buffers(void** /*state*/) {
    start_probe();
    {
        Secret s(kMarker);
        for (int i = 0; i < 64; ++i) {
            s.append(" growing past the capacity again and again");
        }
        s.assign(std::string(4096, 'z'));
    }
    g_probe_active = false;
    assert_true(g_blocks_freed >= 2);
    assert_int_equal(g_marker_blocks_freed, 0);
}

void secret_destructor_wipes(void** /*state*/) {
    const std::string value = std::string(kMarker) + " plus enough text to need a heap buffer";
    start_probe();
    { Secret s(value); }
    g_probe_active = false;
    assert_int_equal(g_blocks_freed, 1);
    assert_int_equal(g_marker_blocks_freed, 0);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_is_empty),
        cmocka_unit_test(construct_from_view),
        cmocka_unit_test(assign_replaces),
        cmocka_unit_test(append_and_push_back),
        cmocka_unit_test(clear_leaves_size_zero),
        cmocka_unit_test(clear_wipes_old_contents_in_place),
        cmocka_unit_test(clear_wipes_beyond_current_size),
        cmocka_unit_test(move_construct_empties_source),
        cmocka_unit_test(move_construct_wipes_inline_buffer),
        cmocka_unit_test(move_assign_empties_source),
        cmocka_unit_test(move_assign_wipes_inline_buffer),
        cmocka_unit_test(move_assign_to_self_keeps_value),
        cmocka_unit_test(moved_from_is_reusable),
        cmocka_unit_test(wipe_memory_zeroes_buffer),
        cmocka_unit_test(wipe_memory_edge_cases),
        cmocka_unit_test(allocator_round_trip),
        cmocka_unit_test(allocator_refuses_overflowing_size),
        cmocka_unit_test(probe_sees_unwiped_free),
        cmocka_unit_test(allocator_deallocate_wipes),
        cmocka_unit_test(secret_growth_wipes_old_buffers),
        cmocka_unit_test(secret_destructor_wipes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// Buffers for passwords, codes and keys that wipe their memory.
#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <string>
#include <string_view>

namespace pamfac {

void wipe_memory(void* data, std::size_t size) noexcept;

// Every buffer std::basic_string releases (growth included) is wiped first,
// so no stale copy of a secret survives a reallocation.
template <class T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() noexcept = default;
    template <class U>
    WipingAllocator(const WipingAllocator<U>& /*other*/) noexcept {}  // NOLINT(google-explicit-constructor)
    T* allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) {
            throw std::bad_alloc();
        }
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        wipe_memory(p, n * sizeof(T));
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const WipingAllocator<U>& /*other*/) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const WipingAllocator<U>& /*other*/) const noexcept {
        return false;
    }
};

using WipingString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

// A secret value. Not copyable, so it cannot be duplicated by accident;
// moving wipes the source, including a short string's inline buffer.
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string_view value) : value_(value.data(), value.size()) {}
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret() { clear(); }

    void assign(std::string_view value);
    void append(std::string_view value) { value_.append(value.data(), value.size()); }
    void push_back(char c) { value_.push_back(c); }
    void reserve(std::size_t n) { value_.reserve(n); }
    void clear() noexcept;

    std::string_view view() const noexcept { return {value_.data(), value_.size()}; }
    const char* c_str() const noexcept { return value_.c_str(); }
    std::size_t size() const noexcept { return value_.size(); }
    bool empty() const noexcept { return value_.empty(); }

private:
    WipingString value_;
};

}  // namespace pamfac

#include "core/secret.h"

#include <cstring>
#include <utility>

namespace pamfac {

void wipe_memory(void* data, std::size_t size) noexcept {
    if (data != nullptr && size > 0) {
        explicit_bzero(data, size);
    }
}

// After a move, a short string's characters remain in the source's inline
// buffer: clear() wipes that buffer too.
Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
    other.clear();
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        clear();
        value_ = std::move(other.value_);
        other.clear();
    }
    return *this;
}

void Secret::assign(std::string_view value) {
    clear();
    value_.assign(value.data(), value.size());
}

void Secret::clear() noexcept {
    // The whole capacity, not just size(): earlier, longer contents may
    // still sit past the current end.
    wipe_memory(value_.data(), value_.capacity());
    value_.clear();
}

}  // namespace pamfac

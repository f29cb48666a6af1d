// Durations as the logs and facctl show them: whole milliseconds on the
// monotonic clock.
#pragma once

#include <chrono>

namespace pamfac {

inline long ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

inline long elapsed_ms(std::chrono::steady_clock::time_point start) {
    return ms_between(start, std::chrono::steady_clock::now());
}

}  // namespace pamfac

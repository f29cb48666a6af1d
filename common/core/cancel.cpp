#include "core/cancel.h"

#include <sys/socket.h>

#include <algorithm>

namespace pamfac {

void CancelToken::cancel() {
    const std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    for (int fd : sockets_) {
        // shutdown, not close: libcurl still owns the descriptor and closes
        // it itself; shutdown makes its pending recv or poll return now.
        ::shutdown(fd, SHUT_RDWR);
    }
    wakeup_.notify_all();
}

bool CancelToken::cancelled() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_;
}

bool CancelToken::track_socket(int fd) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_) {
        return false;
    }
    sockets_.push_back(fd);
    return true;
}

void CancelToken::forget_socket(int fd) {
    const std::lock_guard<std::mutex> lock(mutex_);
    sockets_.erase(std::remove(sockets_.begin(), sockets_.end(), fd), sockets_.end());
}

bool CancelToken::sleep_for(std::chrono::milliseconds duration) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wakeup_.wait_for(lock, duration, [this] { return cancelled_; });
}

}  // namespace pamfac

// Abandoning a request from another thread: the autopush thread's push is
// cancelled the moment a typed code wins. Closing the sockets in flight
// wakes libcurl at once, where its progress callback alone could take a
// second; waits between polls wake on the same signal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace pamfac {

class CancelToken {
public:
    void cancel();
    bool cancelled() const;

    // Sockets the transport opened for this request; cancel() shuts them down.
    // Returns false (and registers nothing) when already cancelled.
    bool track_socket(int fd);
    void forget_socket(int fd);

    // Sleeps up to `duration`; false when cancelled meanwhile.
    bool sleep_for(std::chrono::milliseconds duration);

private:
    mutable std::mutex mutex_;
    std::condition_variable wakeup_;
    std::vector<int> sockets_;
    bool cancelled_ = false;
};

}  // namespace pamfac

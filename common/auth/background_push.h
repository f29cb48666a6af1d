// autopush: the push runs on its own thread while the user is at the code
// prompt. Whatever happens, the thread is cancelled and joined before this
// object is gone, so none outlives the PAM call that started it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/backend.h"
#include "core/cancel.h"

namespace pamfac {

class BackgroundPush {
public:
    // Starts the push; throws std::system_error when no thread can be made.
    BackgroundPush(Backend& backend, PushFields fields);
    BackgroundPush(const BackgroundPush&) = delete;
    BackgroundPush& operator=(const BackgroundPush&) = delete;
    ~BackgroundPush();

    // The answer, if the push has finished.
    std::optional<BackendResult> result_if_done();
    // The answer, if the push finishes within `limit`.
    std::optional<BackendResult> wait_for(std::chrono::milliseconds limit);
    // Waits for the answer (bounded by push_timeout inside the backend).
    BackendResult wait();

private:
    CancelToken cancel_;
    std::mutex mutex_;
    std::condition_variable done_;
    std::optional<BackendResult> result_;
    std::thread thread_;
};

}  // namespace pamfac

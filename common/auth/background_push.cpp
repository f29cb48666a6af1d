#include "auth/background_push.h"

#include <exception>
#include <utility>

namespace pamfac {

BackgroundPush::BackgroundPush(Backend& backend, PushFields fields)
    : thread_([this, &backend, fields = std::move(fields)] {
          BackendResult result;
          try {
              result = backend.push(fields, &cancel_);
          } catch (const std::exception& e) {
              result = BackendResult{Verdict::Outage, "", std::string("push failed: ") + e.what()};
          }
          const std::lock_guard<std::mutex> lock(mutex_);
          result_ = std::move(result);
          done_.notify_all();
      }) {}

BackgroundPush::~BackgroundPush() {
    cancel_.cancel();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::optional<BackendResult> BackgroundPush::result_if_done() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return result_;
}

std::optional<BackendResult> BackgroundPush::wait_for(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait_for(lock, limit, [this] { return result_.has_value(); });
    return result_;
}

BackendResult BackgroundPush::wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return result_.has_value(); });
    return *result_;
}

}  // namespace pamfac

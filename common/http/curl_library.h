// libcurl, loaded the first time a request needs it instead of with the
// module: a login that sends no request (trusted_networks, groups,
// grace_period, a config error) never pays for libcurl and its tree of
// libraries. The one place that names libcurl's functions; everything else
// calls them through this table.
#pragma once

#include <curl/curl.h>

#include <string>

namespace pamfac {

inline constexpr const char* kCurlLibraryName = "libcurl.so.4";

struct CurlLibrary {
    CURL* (*easy_init)();
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    void (*easy_reset)(CURL*);
    void (*easy_cleanup)(CURL*);
    const char* (*easy_strerror)(CURLcode);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

// curl_easy_setopt through the table, typed: libcurl reads each option's
// value through "..." as a long, a pointer or a function pointer, and
// nothing else checks the caller passed one of those. The first option
// libcurl refuses (one an older libcurl does not know, say) is kept, so
// that a request is not sent without it.
class CurlOptions {
public:
    CurlOptions(const CurlLibrary& curl, CURL* handle) : curl_(curl), handle_(handle) {}

    void set(CURLoption option, long value) { check(option, curl_.easy_setopt(handle_, option, value)); }
    void set(CURLoption option, const void* value) { check(option, curl_.easy_setopt(handle_, option, value)); }
    template <typename Result, typename... Args>
    void set(CURLoption option, Result (*value)(Args...)) {
        check(option, curl_.easy_setopt(handle_, option, value));
    }

    bool ok() const { return refused_ == CURLE_OK; }
    // "libcurl refused option N: <reason>", for a request not sent.
    std::string refusal() const;

private:
    void check(CURLoption option, CURLcode rc) {
        if (rc != CURLE_OK && refused_ == CURLE_OK) {
            refused_ = rc;
            refused_option_ = option;
        }
    }

    const CurlLibrary& curl_;
    CURL* handle_;
    CURLcode refused_ = CURLE_OK;
    CURLoption refused_option_ = CURLOPT_URL;
};

// Loads libcurl (dlopen, never closed) and initialises it with an allocator
// that wipes what it frees, once per process however many threads ask at
// the same time. nullptr when that fails; `error` then names the library
// and says why (dlerror()). A failure is not remembered: the next call
// tries again.
const CurlLibrary* curl_library(std::string& error);

}  // namespace pamfac

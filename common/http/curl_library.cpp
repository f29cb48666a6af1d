#include "http/curl_library.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace pamfac {
namespace {

// libcurl's memory, through curl_global_init_mem: its buffers hold the
// Basic-auth header, the request body with the password and the code, and
// the bearer token. What it frees is wiped first, so that none of it stays
// in the host's heap after pam_end.
void* curl_malloc(std::size_t size) {
    return std::malloc(size);
}

// The whole pages inside a large block go back to the kernel
// (MADV_DONTNEED on private anonymous memory: they read as zeros from then
// on, and the kernel clears them before any reuse) instead of being written
// over. Writing over them would make dirty the pages of libcurl's large
// buffers (64 KiB for downloads) that a login never touched: memory every
// concurrent login would hold for nothing. The partial pages at either end
// are wiped.
void wipe(void* p, std::size_t size) {
    static const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t end = start + size;
    const std::uintptr_t first = (start + page - 1) & ~(page - 1);
    const std::uintptr_t last = end & ~(page - 1);
    if (last >= first + 2 * page && madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) == 0) {
        explicit_bzero(p, first - start);
        explicit_bzero(reinterpret_cast<void*>(last), end - last);
        return;
    }
    explicit_bzero(p, size);
}

void curl_free(void* p) {
    if (p != nullptr) {
        wipe(p, malloc_usable_size(p));
        std::free(p);
    }
}

// realloc() would free a moved block unwiped: move it ourselves.
void* curl_realloc(void* p, std::size_t size) {
    if (p == nullptr) {
        return std::malloc(size);
    }
    const std::size_t have = malloc_usable_size(p);
    if (size <= have) {
        return p;
    }
    void* moved = std::malloc(size);
    if (moved != nullptr) {
        std::memcpy(moved, p, have);
        curl_free(p);
    }
    return moved;
}

void* curl_calloc(std::size_t count, std::size_t size) {
    return std::calloc(count, size);
}

// libcurl opens the file named by SSLKEYLOGFILE at initialisation and
// appends every TLS secret to it. Under sudo that variable comes from the
// calling user: it would let them create files as root and decrypt the
// traffic that carries the API key. libcurl copies the name with the strdup
// given to curl_global_init_mem; refusing that one copy (libcurl then opens
// nothing) leaves the environment, which the host's other threads may be
// reading, untouched.
thread_local const char* t_refused_copy = nullptr;

char* curl_strdup(const char* s) {
    if (t_refused_copy != nullptr && std::strcmp(s, t_refused_copy) == 0) {
        return nullptr;
    }
    const std::size_t n = std::strlen(s) + 1;
    auto* copy = static_cast<char*>(std::malloc(n));
    if (copy != nullptr) {
        std::memcpy(copy, s, n);
    }
    return copy;
}

template <typename Function>
bool find(void* library, const char* name, Function& out, std::string& error) {
    dlerror();
    out = reinterpret_cast<Function>(dlsym(library, name));
    if (out == nullptr) {
        const char* why = dlerror();
        error = std::string("cannot use ") + kCurlLibraryName + ": " + (why != nullptr ? why : name);
        return false;
    }
    return true;
}

// Static storage never destroyed: nothing to run at exit.
std::mutex g_loading;
std::atomic<const CurlLibrary*> g_loaded{nullptr};
CurlLibrary g_table;

const CurlLibrary* load(std::string& error) {
    // RTLD_LOCAL: libcurl's symbols stay out of the host's namespace. Never
    // closed, as the module itself is never unloaded (-z nodelete).
    void* library = dlopen(kCurlLibraryName, RTLD_LAZY | RTLD_LOCAL);
    if (library == nullptr) {
        const char* why = dlerror();
        error = std::string("cannot load ") + kCurlLibraryName + ": " + (why != nullptr ? why : "dlopen failed");
        return nullptr;
    }
    CURLcode (*global_init_mem)(long, curl_malloc_callback, curl_free_callback, curl_realloc_callback,
                                curl_strdup_callback, curl_calloc_callback) = nullptr;
    CurlLibrary t{};
    if (!find(library, "curl_global_init_mem", global_init_mem, error) ||
        !find(library, "curl_easy_init", t.easy_init, error) ||
        !find(library, "curl_easy_setopt", t.easy_setopt, error) ||
        !find(library, "curl_easy_perform", t.easy_perform, error) ||
        !find(library, "curl_easy_getinfo", t.easy_getinfo, error) ||
        !find(library, "curl_easy_reset", t.easy_reset, error) ||
        !find(library, "curl_easy_cleanup", t.easy_cleanup, error) ||
        !find(library, "curl_easy_strerror", t.easy_strerror, error) ||
        !find(library, "curl_slist_append", t.slist_append, error) ||
        !find(library, "curl_slist_free_all", t.slist_free_all, error)) {
        return nullptr;
    }
    // A host that initialised libcurl itself keeps its own allocator and
    // its own SSLKEYLOGFILE decision: curl_global_init_mem then only counts.
    t_refused_copy = std::getenv("SSLKEYLOGFILE");
    const CURLcode rc =
        global_init_mem(CURL_GLOBAL_DEFAULT, curl_malloc, curl_free, curl_realloc, curl_strdup, curl_calloc);
    t_refused_copy = nullptr;
    if (rc != CURLE_OK) {
        error = std::string(kCurlLibraryName) + " could not be initialised: curl_global_init_mem returned " +
                std::to_string(static_cast<int>(rc));
        return nullptr;
    }
    g_table = t;
    return &g_table;
}

}  // namespace

std::string CurlOptions::refusal() const {
    return "libcurl refused option " + std::to_string(static_cast<int>(refused_option_)) + ": " +
           curl_.easy_strerror(refused_);
}

const CurlLibrary* curl_library(std::string& error) {
    const CurlLibrary* loaded = g_loaded.load(std::memory_order_acquire);
    if (loaded != nullptr) {
        return loaded;
    }
    const std::lock_guard<std::mutex> lock(g_loading);
    loaded = g_loaded.load(std::memory_order_relaxed);
    if (loaded == nullptr) {
        loaded = load(error);
        g_loaded.store(loaded, std::memory_order_release);
    }
    return loaded;
}

}  // namespace pamfac

/* curl_timing_shim: an LD_PRELOAD library for `make bench` that times the
 * libcurl calls of a process (the PAM module's or the curl tool's) without
 * changing them. It wraps curl_global_init, curl_global_init_mem and
 * curl_easy_perform, finds the real functions in the already loaded libcurl
 * (dlopen RTLD_NOLOAD), and appends one line per call to the file named by
 * BENCH_SHIM_OUT:
 *   global_init start=<epoch s> end=<epoch s>
 *   perform start=... end=... rc=N namelookup=<us> connect=<us>
 *           appconnect=<us> pretransfer=<us> starttransfer=<us> total=<us>
 * (the CURLINFO_*_TIME_T values, microseconds from the start of the
 * transfer). The curl tool links libcurl, so its calls reach the wrappers
 * by symbol interposition. pam_fac.so loads libcurl itself and takes its
 * functions from dlsym() on libcurl's handle, which interposition does not
 * reach: the shim wraps dlsym too, and hands out its wrappers for those two
 * names. Its dlsym forwards everything else from the shim's own place in
 * the search order, so another preload that looks up RTLD_NEXT (as
 * pam_wrapper does) must come before it in LD_PRELOAD. Only for the phase
 * breakdown; the headline figures run without it. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_real(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void* real_dlsym(void* handle, const char* name) {
    static void* (*next)(void*, const char*) = NULL;
    if (next == NULL) {
        next = (void* (*)(void*, const char*))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    }
    if (next == NULL) {
        next = (void* (*)(void*, const char*))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    }
    return next(handle, name);
}

static void* real(const char* name) {
    void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) {
        lib = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_NOLOAD);
    }
    void* f = lib != NULL ? real_dlsym(lib, name) : NULL;
    if (f == NULL) {
        fprintf(stderr, "curl_timing_shim: %s not found\n", name);
        abort();
    }
    return f;
}

static void emit(const char* line) {
    const char* path = getenv("BENCH_SHIM_OUT");
    FILE* f = path != NULL ? fopen(path, "a") : NULL;
    if (f != NULL) {
        fputs(line, f);
        fclose(f);
    }
}

static void emit_global_init(double start) {
    char line[160];
    snprintf(line, sizeof line, "global_init start=%.6f end=%.6f\n", start, now_real());
    emit(line);
}

__attribute__((visibility("default"))) CURLcode curl_global_init(long flags) {
    CURLcode (*f)(long) = (CURLcode(*)(long))real("curl_global_init");
    const double start = now_real();
    const CURLcode rc = f(flags);
    emit_global_init(start);
    return rc;
}

__attribute__((visibility("default"))) CURLcode curl_global_init_mem(long flags, curl_malloc_callback m,
                                                                     curl_free_callback f, curl_realloc_callback r,
                                                                     curl_strdup_callback s, curl_calloc_callback c) {
    CURLcode (*init)(long, curl_malloc_callback, curl_free_callback, curl_realloc_callback, curl_strdup_callback,
                     curl_calloc_callback) =
        (CURLcode(*)(long, curl_malloc_callback, curl_free_callback, curl_realloc_callback, curl_strdup_callback,
                     curl_calloc_callback))real("curl_global_init_mem");
    const double start = now_real();
    const CURLcode rc = init(flags, m, f, r, s, c);
    emit_global_init(start);
    return rc;
}

__attribute__((visibility("default"))) CURLcode curl_easy_perform(CURL* h) {
    CURLcode (*f)(CURL*) = (CURLcode(*)(CURL*))real("curl_easy_perform");
    CURLcode (*info)(CURL*, CURLINFO, ...) = (CURLcode(*)(CURL*, CURLINFO, ...))real("curl_easy_getinfo");
    const double start = now_real();
    const CURLcode rc = f(h);
    const double end = now_real();
    curl_off_t t[6] = {0};
    const CURLINFO which[6] = {CURLINFO_NAMELOOKUP_TIME_T,  CURLINFO_CONNECT_TIME_T,       CURLINFO_APPCONNECT_TIME_T,
                               CURLINFO_PRETRANSFER_TIME_T, CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T};
    for (int i = 0; i < 6; ++i) {
        info(h, which[i], &t[i]);
    }
    char line[400];
    snprintf(line, sizeof line,
             "perform start=%.6f end=%.6f rc=%d namelookup=%ld connect=%ld appconnect=%ld pretransfer=%ld "
             "starttransfer=%ld total=%ld\n",
             start, end, (int)rc, (long)t[0], (long)t[1], (long)t[2], (long)t[3], (long)t[4], (long)t[5]);
    emit(line);
    return rc;
}

__attribute__((visibility("default"))) void* dlsym(void* handle, const char* name) {
    if (strcmp(name, "curl_easy_perform") == 0) {
        return (void*)curl_easy_perform;
    }
    if (strcmp(name, "curl_global_init_mem") == 0) {
        return (void*)curl_global_init_mem;
    }
    return real_dlsym(handle, name);
}

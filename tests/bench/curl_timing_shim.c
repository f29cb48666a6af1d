/* curl_timing_shim: an LD_PRELOAD library for `make bench` that times the
 * libcurl calls of a process (the PAM module's or the curl tool's) without
 * changing them. It wraps curl_global_init and curl_easy_perform, finds the
 * real functions in the already loaded libcurl (dlopen RTLD_NOLOAD: libpam
 * loads pam_fac.so and its libcurl with RTLD_LOCAL, out of RTLD_NEXT's
 * reach), and appends one line per call to the file named by
 * BENCH_SHIM_OUT:
 *   global_init start=<epoch s> end=<epoch s>
 *   perform start=... end=... rc=N namelookup=<us> connect=<us>
 *           appconnect=<us> pretransfer=<us> starttransfer=<us> total=<us>
 * (the CURLINFO_*_TIME_T values, microseconds from the start of the
 * transfer). Only for the phase breakdown; the headline figures run
 * without it. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_real(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void* real(const char* name) {
    void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) {
        lib = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_NOLOAD);
    }
    void* f = lib != NULL ? dlsym(lib, name) : NULL;
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

__attribute__((visibility("default"))) CURLcode curl_global_init(long flags) {
    CURLcode (*f)(long) = (CURLcode(*)(long))real("curl_global_init");
    const double start = now_real();
    const CURLcode rc = f(flags);
    char line[160];
    snprintf(line, sizeof line, "global_init start=%.6f end=%.6f\n", start, now_real());
    emit(line);
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

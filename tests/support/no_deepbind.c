/* Preloaded by the ThreadSanitizer lane only (make check-tsan): pam_wrapper
 * loads libpam with RTLD_DEEPBIND, which ThreadSanitizer refuses, so this
 * dlopen() passes every call on without that flag. Nothing else changes:
 * the module is still loaded by the real libpam, as in the other lanes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

__attribute__((visibility("default"))) void* dlopen(const char* file, int mode) {
    static void* (*next_dlopen)(const char*, int);
    if (next_dlopen == NULL) {
        next_dlopen = (void* (*)(const char*, int))dlsym(RTLD_NEXT, "dlopen");
    }
    return next_dlopen(file, mode & ~RTLD_DEEPBIND);
}

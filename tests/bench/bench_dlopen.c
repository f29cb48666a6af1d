/* bench_dlopen: dlopen()s each argument (RTLD_NOW | RTLD_LOCAL, as libpam
 * loads a module) in order, for `make bench` to count under callgrind what
 * loading one library and its dependencies costs. Linked with libpam so
 * that the global scope is the same as bench_login's. Exit 1 if one fails. */
#include <security/pam_appl.h>

#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
    int rc = 0;
    for (int i = 1; i < argc; ++i) {
        if (dlopen(argv[i], RTLD_NOW | RTLD_LOCAL) == NULL) {
            fprintf(stderr, "bench_dlopen: %s\n", dlerror());
            rc = 1;
        }
    }
    /* Keep libpam in the global scope, as in bench_login. */
    return rc != 0 ? 1 : (pam_strerror(NULL, PAM_SUCCESS) != NULL ? 0 : 1);
}

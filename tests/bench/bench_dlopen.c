/* bench_dlopen: dlopen()s each argument (RTLD_NOW | RTLD_LOCAL, as libpam
 * loads a module) in order, for `make bench` to count under callgrind what
 * loading one library and its dependencies costs. With -lazy first, it uses
 * RTLD_LAZY instead, to show what lazy binding would save. Linked with libpam
 * so that the global scope is the same as bench_login's. Exit 1 if one
 * fails. */
#include <security/pam_appl.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
    int rc = 0;
    int first = 1;
    int binding = RTLD_NOW;
    if (argc > 1 && strcmp(argv[1], "-lazy") == 0) {
        binding = RTLD_LAZY;
        first = 2;
    }
    for (int i = first; i < argc; ++i) {
        if (dlopen(argv[i], binding | RTLD_LOCAL) == NULL) {
            fprintf(stderr, "bench_dlopen: %s\n", dlerror());
            rc = 1;
        }
    }
    /* Keep libpam in the global scope, as in bench_login. */
    return rc != 0 ? 1 : (pam_strerror(NULL, PAM_SUCCESS) != NULL ? 0 : 1);
}

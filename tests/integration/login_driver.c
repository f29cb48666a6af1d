/* login_driver: a PAM application as small as sudo's use of PAM, for the
 * integration tests that need a process of its own (test_libcurl.cpp): one
 * that has not loaded libcurl, whose mount namespace or library path the
 * test chooses, and whose heap holds nothing but what PAM and pam_fac left.
 *
 *   login_driver SERVICE USER [ANSWER...] [--rhost HOST] [--free-fds N] [--watch-env NAME] [--scan NEEDLE...]
 *
 * Echo-on and echo-off prompts take the ANSWERs in order. --rhost sets
 * PAM_RHOST. --free-fds: after pam_start, RLIMIT_NOFILE leaves only N more
 * file descriptors, as a caller of a setuid program may set it. Prints
 * "rc=<pam_authenticate's code>", then "mapped <path>" for each library
 * mapped after pam_end. --watch-env: a thread watches the environment
 * variable NAME from before pam_start until pam_end and prints
 * "env_changes=<n>", the times it saw it gone or moved. --scan: after
 * pam_end, searches the heap and the anonymous writable mappings for each
 * NEEDLE and prints "found <needle index> <count>" for each one found; the
 * heap holds kPlanted, for a positive control. The needles come from argv,
 * which lies on the stack, out of the scan. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char kPlanted[] = "login-driver-planted-marker";

static char** answers;
static int answer_count;
static int next_answer;

static int converse(int n, const struct pam_message** msg, struct pam_response** resp, void* data) {
    (void)data;
    struct pam_response* r = calloc((size_t)n, sizeof *r);
    if (r == NULL) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < n; ++i) {
        const int style = msg[i]->msg_style;
        if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
            if (next_answer >= answer_count) {
                free(r);
                return PAM_CONV_ERR;
            }
            r[i].resp = strdup(answers[next_answer++]);
        } else {
            fprintf(stderr, "pam: %s\n", msg[i]->msg);
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static const char* watched_name;
static atomic_int watching = 1;
static atomic_int env_changes;

static void* watch_env(void* arg) {
    const char* first = arg;
    while (atomic_load(&watching)) {
        if (getenv(watched_name) != first) {
            atomic_fetch_add(&env_changes, 1);
        }
    }
    return NULL;
}

/* Reads freed memory and allocator redzones on purpose: neither memmem (which
 * AddressSanitizer intercepts) nor instrumented loads. */
__attribute__((no_sanitize_address)) static int count_in(const char* from, size_t size, const char* needle,
                                                         size_t len) {
    int n = 0;
    for (size_t i = 0; len > 0 && i + len <= size; ++i) {
        size_t j = 0;
        while (j < len && from[i + j] == needle[j]) {
            ++j;
        }
        n += j == len;
    }
    return n;
}

/* /proc/self/maps read into static storage (not the heap it describes). */
static char maps[1 << 20];

static void scan_memory(char** needles, int count) {
    const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t used = 0;
    ssize_t got;
    while (fd >= 0 && used < sizeof maps - 1 && (got = read(fd, maps + used, sizeof maps - 1 - used)) > 0) {
        used += (size_t)got;
    }
    if (fd >= 0) {
        close(fd);
    }
    maps[used] = '\0';
    int found[64] = {0};
    for (char* line = strtok(maps, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        unsigned long start = 0;
        unsigned long end = 0;
        char perms[5] = {0};
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3) {
            continue;
        }
        const char* path = line + path_at;
        const int anonymous = path_at == 0 || *path == '\0';
        if (strstr(path, ".so") != NULL && strstr(perms, "x") != NULL) {
            printf("mapped %s\n", path);
        }
        /* Sanitizer shadow memory is anonymous too, and terabytes large. */
        if (strncmp(perms, "rw", 2) != 0 || (!anonymous && strcmp(path, "[heap]") != 0) || end - start > (1UL << 30)) {
            continue;
        }
        for (int i = 0; i < count && i < 64; ++i) {
            const size_t len = strlen(needles[i]);
            found[i] += count_in((const char*)start, end - start, needles[i], len);
        }
    }
    for (int i = 0; i < count && i < 64; ++i) {
        if (found[i] > 0) {
            printf("found %d %d\n", i, found[i]);
        }
    }
}

int main(int argc, char** argv) {
    /* pam_wrapper has made this process's directory: let the next test start
     * (run_child() in test_libcurl.cpp). */
    const char* startup_lock = getenv("PAMFAC_WRAPPER_LOCK_FD");
    if (startup_lock != NULL) {
        close(atoi(startup_lock));
        unsetenv("PAMFAC_WRAPPER_LOCK_FD");
    }
    if (argc < 3) {
        fprintf(stderr,
                "usage: login_driver SERVICE USER [ANSWER...] [--rhost HOST] [--free-fds N] [--watch-env NAME] "
                "[--scan NEEDLE...]\n");
        return 2;
    }
    answers = argv + 3;
    int i = 3;
    while (i < argc && strncmp(argv[i], "--", 2) != 0) {
        ++i;
    }
    answer_count = i - 3;
    const char* rhost = NULL;
    if (i + 1 < argc && strcmp(argv[i], "--rhost") == 0) {
        rhost = argv[i + 1];
        i += 2;
    }
    int free_fds = -1;
    if (i + 1 < argc && strcmp(argv[i], "--free-fds") == 0) {
        free_fds = atoi(argv[i + 1]);
        i += 2;
    }
    pthread_t watcher;
    if (i + 1 < argc && strcmp(argv[i], "--watch-env") == 0) {
        watched_name = argv[i + 1];
        i += 2;
        if (pthread_create(&watcher, NULL, watch_env, getenv(watched_name)) != 0) {
            return 2;
        }
    }
    char** needles = NULL;
    int needle_count = 0;
    if (i < argc && strcmp(argv[i], "--scan") == 0) {
        needles = argv + i + 1;
        needle_count = argc - i - 1;
    }

    const struct pam_conv conv = {converse, NULL};
    pam_handle_t* pamh = NULL;
    int rc = pam_start(argv[1], argv[2], &conv, &pamh);
    if (rc == PAM_SUCCESS && rhost != NULL) {
        rc = pam_set_item(pamh, PAM_RHOST, rhost);
    }
    if (rc == PAM_SUCCESS && free_fds >= 0) {
        const int lowest_free = dup(0);
        close(lowest_free);
        const struct rlimit limit = {(rlim_t)(lowest_free + free_fds), (rlim_t)(lowest_free + free_fds)};
        if (lowest_free < 0 || setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            return 2;
        }
    }
    if (rc == PAM_SUCCESS) {
        rc = pam_authenticate(pamh, 0);
        pam_end(pamh, rc);
    }
    if (watched_name != NULL) {
        atomic_store(&watching, 0);
        pthread_join(watcher, NULL);
        printf("env_changes=%d\n", atomic_load(&env_changes));
    }
    printf("rc=%d\n", rc);
    char* planted = strdup(kPlanted);
    scan_memory(needles, needle_count);
    free(planted);
    return 0;
}

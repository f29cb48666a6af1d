/* bench_login: one PAM login per process, for `make bench`.
 *
 *   bench_login [-d CONFDIR] [-t] [-m FILE] [-n COUNT] SERVICE USER [ANSWER...]
 *
 * Authenticates USER through SERVICE with the real libpam. With -d the
 * stack is read from CONFDIR by pam_start_confdir() (Linux-PAM 1.4+), so
 * no pam_wrapper preload and no change to /etc is needed; without -d the
 * usual pam_start() (under pam_wrapper, as tests/demo/pam_demo does).
 * Prompts are answered from the command line, in order; messages are
 * ignored. PAM_RHOST is 192.0.2.10. With -t it prints one line of
 * CLOCK_REALTIME marks (seconds since the epoch) on stdout:
 *   marks main=... started=... authenticated=... ended=... rc=N
 * With -m FILE it copies /proc/self/smaps to FILE and
 * /proc/self/smaps_rollup to FILE.rollup right after pam_authenticate
 * returned (how much memory a login holds, and where).
 * With -n COUNT it does COUNT logins one after the other in this process
 * (pam_start to pam_end, the same answers each time), as a long-running
 * service does, and with -t prints a marks line for each; main= is then
 * when that login began.
 * Exit status 0 when every pam_authenticate returned PAM_SUCCESS, 1 otherwise.
 * Written in C so that the client adds nothing but libc and libpam to the
 * process; everything else in a login is the module's. */
#define _GNU_SOURCE
#include <security/pam_appl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct script {
    char** answers;
    int count;
    int next;
};

static double now_real(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy_file(const char* from, const char* to) {
    FILE* in = fopen(from, "r");
    FILE* out = fopen(to, "w");
    char buf[8192];
    size_t n;
    while (in != NULL && out != NULL && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        fwrite(buf, 1, n, out);
    }
    if (in != NULL) {
        fclose(in);
    }
    if (out != NULL) {
        fclose(out);
    }
}

static int converse(int count, const struct pam_message** messages, struct pam_response** responses, void* data) {
    struct script* s = data;
    struct pam_response* replies = calloc((size_t)count, sizeof *replies);
    if (replies == NULL) {
        return PAM_BUF_ERR;
    }
    for (int i = 0; i < count; ++i) {
        int style = messages[i]->msg_style;
        if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
            if (s->next >= s->count) {
                for (int j = 0; j < i; ++j) {
                    free(replies[j].resp);
                }
                free(replies);
                return PAM_CONV_ERR;
            }
            replies[i].resp = strdup(s->answers[s->next++]);
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

/* One login, pam_start to pam_end; prints its marks with -t. */
static int login(const char* confdir, const char* service, const char* user, struct script* s, const char* smaps,
                 int marks) {
    const double t_main = now_real();
    s->next = 0;
    const struct pam_conv conv = {converse, s};
    pam_handle_t* pamh = NULL;
    int rc = confdir != NULL ? pam_start_confdir(service, user, &conv, confdir, &pamh)
                             : pam_start(service, user, &conv, &pamh);
    const double t_started = now_real();
    double t_auth = t_started;
    if (rc == PAM_SUCCESS) {
        pam_set_item(pamh, PAM_RHOST, "192.0.2.10");
        rc = pam_authenticate(pamh, 0);
        t_auth = now_real();
    }
    if (smaps != NULL) {
        char rollup[4096];
        copy_file("/proc/self/smaps", smaps);
        if (snprintf(rollup, sizeof rollup, "%s.rollup", smaps) < (int)sizeof rollup) {
            copy_file("/proc/self/smaps_rollup", rollup);
        }
    }
    if (pamh != NULL) {
        pam_end(pamh, rc);
    }
    const double t_end = now_real();
    if (marks) {
        printf("marks main=%.6f started=%.6f authenticated=%.6f ended=%.6f rc=%d\n", t_main, t_started, t_auth, t_end,
               rc);
    }
    return rc;
}

int main(int argc, char** argv) {
    const char* confdir = NULL;
    const char* smaps = NULL;
    int marks = 0;
    long count = 1;
    int opt;
    while ((opt = getopt(argc, argv, "+d:m:n:t")) != -1) {
        if (opt == 'd') {
            confdir = optarg;
        } else if (opt == 'm') {
            smaps = optarg;
        } else if (opt == 'n') {
            count = strtol(optarg, NULL, 10);
        } else if (opt == 't') {
            marks = 1;
        } else {
            return 2;
        }
    }
    if (argc - optind < 2 || count < 1) {
        fprintf(stderr, "usage: %s [-d CONFDIR] [-t] [-m FILE] [-n COUNT] SERVICE USER [ANSWER...]\n", argv[0]);
        return 2;
    }
    struct script s = {argv + optind + 2, argc - optind - 2, 0};
    int failures = 0;
    for (long i = 0; i < count; ++i) {
        failures += login(confdir, argv[optind], argv[optind + 1], &s, i == 0 ? smaps : NULL, marks) != PAM_SUCCESS;
    }
    return failures == 0 ? 0 : 1;
}

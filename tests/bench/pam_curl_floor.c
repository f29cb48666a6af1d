/* pam_curl_floor.so: NOT pam_fac. A throw-away PAM module for `make bench`:
 * the least a PAM module built on libcurl does for one code check, so that
 * pam_fac is measured against what its transport cannot avoid. It prompts
 * for the code, POSTs {"username","token_code"} with HTTP Basic auth to
 * URL/api/v1/auth/ over TLS 1.2+ verified against a CA file (libcurl linked
 * the usual way, initialised once), and maps 200 to PAM_SUCCESS. Nothing
 * else: no config file, no failover, no logging, no wiping.
 *
 *   auth required pam_curl_floor.so url=https://127.0.0.1:N ca=CA.pem
 *        user=API_USER key=API_KEY agent=USER_AGENT
 *
 * (agent: pam_fac's User-Agent, so that the request is byte for byte the
 * module's.) */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* arg(int argc, const char** argv, const char* name) {
    size_t n = strlen(name);
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }
    return "";
}

static size_t discard(char* data, size_t size, size_t count, void* user) {
    (void)data;
    (void)user;
    return size * count;
}

static int plain(const char* s) {
    return strpbrk(s, "\"\\") == NULL;
}

static void init_curl(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static long post(const char* url, const char* ca, const char* user, const char* key, const char* agent,
                 const char* body) {
    CURL* h = curl_easy_init();
    if (h == NULL) {
        return -1;
    }
    struct curl_slist* headers = curl_slist_append(NULL, "Accept: application/json");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, key);
    curl_easy_setopt(h, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    long status = -1;
    if (curl_easy_perform(h) == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return status;
}

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc,
                                                               const char** argv) {
    (void)flags;
    const char* user = NULL;
    char* code = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
        pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &code, "Code: ") != PAM_SUCCESS || code == NULL) {
        return PAM_AUTH_ERR;
    }
    /* The bench's user names and codes need no JSON escaping. */
    char body[512];
    char url[512];
    const int n = snprintf(body, sizeof body, "{\"username\":\"%s\",\"token_code\":\"%s\"}", user, code);
    const int ok = plain(user) && plain(code);
    free(code);
    if (!ok || n < 0 || (size_t)n >= sizeof body ||
        snprintf(url, sizeof url, "%s/api/v1/auth/", arg(argc, argv, "url")) >= (int)sizeof url) {
        return PAM_AUTH_ERR;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_curl);
    const long status = post(url, arg(argc, argv, "ca"), arg(argc, argv, "user"), arg(argc, argv, "key"),
                             arg(argc, argv, "agent"), body);
    return status == 200 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

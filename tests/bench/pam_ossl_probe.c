/* pam_ossl_probe.so: NOT pam_fac. A throw-away PAM module for `make bench`
 * that does what pam_fac does on the wire for one code check (prompt for
 * the code, POST {"username","token_code"} with HTTP Basic auth to
 * /api/v1/auth/ over TLS 1.2+, verified against a CA file, and map 200 to
 * PAM_SUCCESS), written in C on libssl alone: no libcurl, no libstdc++.
 * It exists to measure what a login would cost if pam_fac's transport were
 * built on OpenSSL directly (figures 1, 2 and 5 of docs/performance.md).
 * Loopback prototype only: blocking I/O, no timeouts, no proxy, no pinning.
 *
 *   auth required pam_ossl_probe.so host=127.0.0.1 port=N ca=CA.pem
 *        user=API_USER key=API_KEY */
#define _GNU_SOURCE
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char* arg(int argc, const char** argv, const char* name) {
    size_t n = strlen(name);
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            return argv[i] + n + 1;
        }
    }
    return "";
}

static int post(const char* host, int port, const char* ca, const char* auth_b64, const char* body) {
    int status = -1;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = NULL;
    int fd = -1;
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        goto out;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        goto out;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
        goto out;
    }
    ssl = SSL_new(ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        goto out;
    }
    char request[2048];
    int len = snprintf(request, sizeof request,
                       "POST /api/v1/auth/ HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Basic %s\r\n"
                       "User-Agent: pam_fac/0.1.0\r\nAccept: application/json\r\n"
                       "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       host, port, auth_b64, strlen(body), body);
    if (len <= 0 || len >= (int)sizeof request || SSL_write(ssl, request, len) != len) {
        goto out;
    }
    char answer[4096];
    int got = 0;
    int n;
    while (got < (int)sizeof answer - 1 && (n = SSL_read(ssl, answer + got, (int)sizeof answer - 1 - got)) > 0) {
        got += n;
    }
    answer[got] = '\0';
    if (sscanf(answer, "HTTP/1.%*d %d", &status) != 1) {
        status = -1;
    }
out:
    if (ssl != NULL) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    if (fd >= 0) {
        close(fd);
    }
    SSL_CTX_free(ctx);
    return status;
}

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc,
                                                               const char** argv) {
    (void)flags;
    const char* user = NULL;
    char* code = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS ||
        pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &code, "FortiToken code: ") != PAM_SUCCESS || code == NULL) {
        return PAM_AUTH_ERR;
    }
    char credentials[256];
    unsigned char b64[400];
    snprintf(credentials, sizeof credentials, "%s:%s", arg(argc, argv, "user"), arg(argc, argv, "key"));
    EVP_EncodeBlock(b64, (const unsigned char*)credentials, (int)strlen(credentials));
    char body[512];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"token_code\":\"%s\"}", user, code);
    free(code);
    const int status =
        post(arg(argc, argv, "host"), atoi(arg(argc, argv, "port")), arg(argc, argv, "ca"), (const char*)b64, body);
    return status == 200 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

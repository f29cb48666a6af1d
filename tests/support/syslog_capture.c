/* Preloaded into integration tests: appends every syslog message to the
 * file named by PAMFAC_TEST_SYSLOG ("<priority> <message>" per line), so a
 * test can assert the module's log lines without a syslog daemon. It covers
 * the fortified entry points libpam calls as well as the plain ones. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

static void capture(int priority, const char* format, va_list args) {
    const char* path = getenv("PAMFAC_TEST_SYSLOG");
    if (path == NULL) {
        return;
    }
    char message[8192];
    int len = snprintf(message, sizeof message, "%d ", priority & LOG_PRIMASK);
    if (len < 0) {
        return;
    }
    int body = vsnprintf(message + len, sizeof message - (size_t)len - 1, format, args);
    if (body < 0) {
        return;
    }
    len += body;
    if ((size_t)len > sizeof message - 2) {
        len = (int)(sizeof message - 2);
    }
    message[len++] = '\n';
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t ignored = write(fd, message, (size_t)len);
        (void)ignored;
        close(fd);
    }
}

__attribute__((visibility("default"))) void syslog(int priority, const char* format, ...) {
    va_list args;
    va_start(args, format);
    capture(priority, format, args);
    va_end(args);
}

__attribute__((visibility("default"))) void vsyslog(int priority, const char* format, va_list args) {
    capture(priority, format, args);
}

__attribute__((visibility("default"))) void __syslog_chk(int priority, int flag, const char* format, ...) {
    (void)flag;
    va_list args;
    va_start(args, format);
    capture(priority, format, args);
    va_end(args);
}

__attribute__((visibility("default"))) void __vsyslog_chk(int priority, int flag, const char* format, va_list args) {
    (void)flag;
    capture(priority, format, args);
}

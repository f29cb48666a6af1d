/* A curl_easy_setopt for test_curl_transport.cpp's fake table, in C as
 * libcurl's own is: va_start after a CURLoption is defined in C (an enum is
 * compatible with its integer type), not in C++. It hands each pointer
 * option's value to the test as a string and refuses one option. */
#include <curl/curl.h>
#include <stdarg.h>

CURLoption fake_refused_option = CURLOPT_LASTENTRY;
void fake_record_option(int option, const char* value);

CURLcode fake_setopt(CURL* handle, CURLoption option, ...) {
    (void)handle;
    if (option == fake_refused_option) {
        return CURLE_UNKNOWN_OPTION;
    }
    if (option >= CURLOPTTYPE_OBJECTPOINT && option < CURLOPTTYPE_FUNCTIONPOINT) {
        va_list args;
        va_start(args, option);
        fake_record_option((int)option, va_arg(args, const char*));
        va_end(args);
    }
    return CURLE_OK;
}

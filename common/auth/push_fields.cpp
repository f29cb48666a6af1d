#include "auth/push_fields.h"

#include <arpa/inet.h>

#include "core/text.h"

namespace pamfac {

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string utc_timestamp(std::time_t when) {
    std::tm tm{};
    gmtime_r(&when, &tm);
    char buf[32];
    (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string expand_push_message(const std::string& pattern, const LoginContext& login) {
    auto field = [&login](std::string_view name, std::string& out) {
        if (name == "service") {
            out = login.service;
        } else if (name == "user") {
            out = login.user;
        } else if (name == "rhost") {
            out = login.rhost.empty() ? "local" : login.rhost;
        } else if (name == "host") {
            out = login.host;
        } else if (name == "tty") {
            out = login.tty;
        } else {
            return false;
        }
        return true;
    };
    std::string result;
    std::size_t i = 0;
    while (i < pattern.size()) {
        if (pattern[i] == '{') {
            const std::size_t close = pattern.find('}', i);
            std::string value;
            if (close != std::string::npos && field(std::string_view(pattern).substr(i + 1, close - i - 1), value)) {
                result += value;
                i = close + 1;
                continue;
            }
        }
        result += pattern[i++];
    }
    return display_safe(result);
}

PushFields make_push_fields(const LoginContext& login, const std::string& username, const std::string& pattern,
                            const std::string& user_agent, std::time_t now) {
    PushFields f;
    f.username = username;
    if (is_ip_literal(login.rhost)) {
        f.user_ip = login.rhost;
    }
    f.timestamp = utc_timestamp(now);
    f.account = login.user;
    f.user_agent = user_agent;
    f.log_message = expand_push_message(pattern, login);
    return f;
}

}  // namespace pamfac

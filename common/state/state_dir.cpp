#include "state/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace pamfac {
namespace {

constexpr std::size_t kMaxStateFile = std::size_t{64} * 1024;

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

std::string state_record_name(std::string_view prefix, std::string_view key) {
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a: stable across builds and processes
    for (const char c : key) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    char digits[17];
    (void)std::snprintf(digits, sizeof digits, "%016" PRIx64, hash);
    return std::string(prefix) + digits;
}

std::optional<StateError> prepare_state_dir(const std::string& path, uid_t euid) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        return StateError{"state_dir " + path + " cannot be created: " + std::strerror(errno)};
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return StateError{"state_dir " + path + " cannot be inspected: " + std::strerror(errno)};
    }
    if (!S_ISDIR(st.st_mode)) {
        return StateError{"state_dir " + path + " is not a directory (a symbolic link is not accepted)"};
    }
    if (st.st_uid != euid) {
        return StateError{"state_dir " + path + " is owned by uid " + std::to_string(st.st_uid) + ", not " +
                          std::to_string(euid) + "; remove it or chown it"};
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return StateError{"state_dir " + path + " is writable by group or others; run chmod 700 " + path};
    }
    return std::nullopt;
}

std::optional<StateError> replace_state_file(const std::string& dir, const std::string& name, std::string_view contents,
                                             Durability durability) {
    std::string temp = dir + "/." + name + ".XXXXXX";
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) {
        return StateError{"cannot write in " + dir + ": " + std::strerror(errno)};
    }
    Fd closer{fd};
    // mkostemp makes the file 0600 already; fchmod guards against odd umasks.
    if (::fchmod(fd, 0600) != 0 || !write_all(fd, contents) ||
        (durability == Durability::Durable && ::fsync(fd) != 0)) {
        const std::string problem = std::strerror(errno);
        ::unlink(temp.c_str());
        return StateError{"cannot write " + temp + ": " + problem};
    }
    if (::rename(temp.c_str(), (dir + "/" + name).c_str()) != 0) {
        const std::string problem = std::strerror(errno);
        ::unlink(temp.c_str());
        return StateError{"cannot replace " + dir + "/" + name + ": " + problem};
    }
    return std::nullopt;
}

std::optional<Secret> read_state_file(const std::string& dir, const std::string& name, uid_t euid) {
    const std::string path = dir + "/" + name;
    Fd file{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (file.fd < 0) {
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != euid ||
        (st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || static_cast<std::size_t>(st.st_size) > kMaxStateFile) {
        return std::nullopt;
    }
    Secret contents;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(file.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        contents.append(std::string_view(buf, static_cast<std::size_t>(n)));
        if (contents.size() > kMaxStateFile) {
            break;
        }
    }
    wipe_memory(buf, sizeof buf);
    return contents;
}

}  // namespace pamfac

#include "state/rescue_store.h"

#include <crypt.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "state/state_dir.h"

namespace pamfac {
namespace {

constexpr const char* kPrefix = "rescue-";
constexpr const char* kUserTag = "user ";
constexpr const char* kHashPrefix = "$y$";  // yescrypt

// Holds the directory's lock (flock on <dir>/.lock) while alive.
class DirLock {
public:
    explicit DirLock(const std::string& dir) {
        fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd_ >= 0) {
            while (::flock(fd_, LOCK_EX) != 0) {
                if (errno != EINTR) {
                    ::close(fd_);
                    fd_ = -1;
                    break;
                }
            }
        }
    }
    ~DirLock() {
        if (fd_ >= 0) {
            ::close(fd_);  // releases the lock
        }
    }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;
    bool held() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// crypt_data is 32 KiB and holds the code while hashing: on the heap, wiped.
struct CryptArea {
    CryptArea() : data(std::make_unique<crypt_data>()) { std::memset(data.get(), 0, sizeof(crypt_data)); }
    ~CryptArea() { wipe_memory(data.get(), sizeof(crypt_data)); }
    CryptArea(const CryptArea&) = delete;
    CryptArea& operator=(const CryptArea&) = delete;
    std::unique_ptr<crypt_data> data;
};

bool same(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
    }
    return diff == 0;
}

std::optional<std::string> hash_code(std::string_view code, std::string& out) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    // count 0: libcrypt's default yescrypt cost; no rbytes: libcrypt reads
    // the salt from the kernel's random source.
    if (crypt_gensalt_rn(kHashPrefix, 0, nullptr, 0, salt, sizeof salt) == nullptr) {
        return std::string("libcrypt cannot make a yescrypt salt: ") + std::strerror(errno);
    }
    CryptArea area;
    const Secret phrase(code);
    const char* hashed = crypt_rn(phrase.c_str(), salt, area.data.get(), static_cast<int>(sizeof(crypt_data)));
    if (hashed == nullptr || std::strncmp(hashed, kHashPrefix, std::strlen(kHashPrefix)) != 0) {
        return std::string("libcrypt cannot hash with yescrypt");
    }
    out = hashed;
    return std::nullopt;
}

bool matches(std::string_view code, const std::string& hash) {
    CryptArea area;
    const Secret phrase(code);
    const char* hashed = crypt_rn(phrase.c_str(), hash.c_str(), area.data.get(), static_cast<int>(sizeof(crypt_data)));
    return hashed != nullptr && same(hashed, hash);
}

std::string cannot_create(const std::string& path, const std::string& part, int err) {
    std::string message = "rescue_dir " + path;
    message += ": cannot create " + part;
    message += std::string(": ") + std::strerror(err);
    return message;
}

std::optional<std::string> make_dirs(const std::string& path) {
    for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        const std::string part = path.substr(0, slash);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
            return cannot_create(path, part, errno);
        }
        if (slash == std::string::npos) {
            return std::nullopt;
        }
    }
}

// Like prepare_state_dir, without creating anything: a login only reads
// what facctl made.
std::optional<std::string> check_dir(const std::string& path, uid_t euid) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return "rescue_dir " + path + " cannot be used: " + std::strerror(errno);
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != euid || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return "rescue_dir " + path + " must be a directory owned by uid " + std::to_string(euid) +
               " that group and others cannot write (a symbolic link is not accepted)";
    }
    return std::nullopt;
}

}  // namespace

RescueStore::RescueStore(std::string dir, uid_t euid) : dir_(std::move(dir)), euid_(euid) {}

std::optional<RescueStore::Codes> RescueStore::read(const std::string& user) const {
    const auto text = read_state_file(dir_, state_record_name(kPrefix, user), euid_);
    if (!text) {
        return std::nullopt;
    }
    const std::string_view all = text->view();
    const std::string header = std::string(kUserTag) + user;
    std::size_t eol = std::min(all.find('\n'), all.size());
    if (all.substr(0, eol) != header) {
        return std::nullopt;  // another user's file under a colliding name, or not ours
    }
    Codes codes;
    for (std::size_t pos = eol + 1; pos < all.size(); pos = eol + 1) {
        eol = std::min(all.find('\n', pos), all.size());
        const std::string_view line = all.substr(pos, eol - pos);
        if (line.compare(0, std::strlen(kHashPrefix), kHashPrefix) == 0) {
            codes.hashes.emplace_back(line);
        } else if (!line.empty()) {
            return std::nullopt;
        }
    }
    return codes;
}

std::optional<std::string> RescueStore::write(const std::string& user, const Codes& codes) {
    std::string text = std::string(kUserTag) + user + "\n";
    for (const std::string& hash : codes.hashes) {
        text += hash + "\n";
    }
    if (auto problem = replace_state_file(dir_, state_record_name(kPrefix, user), text)) {
        return problem->message;
    }
    return std::nullopt;
}

std::optional<std::string> RescueStore::replace(const std::string& user, const std::vector<Secret>& codes) {
    if (user.empty() || user.find('\n') != std::string::npos) {
        return std::string("invalid user name");
    }
    if (auto problem = make_dirs(dir_)) {
        return problem;
    }
    if (auto problem = prepare_state_dir(dir_, euid_)) {
        return "rescue_dir: " + problem->message;
    }
    Codes fresh;
    for (const Secret& code : codes) {
        std::string hash;
        if (auto problem = hash_code(code.view(), hash)) {
            return problem;
        }
        fresh.hashes.push_back(std::move(hash));
    }
    DirLock lock(dir_);
    if (!lock.held()) {
        return "cannot lock " + dir_ + "/.lock: " + std::strerror(errno);
    }
    return write(user, fresh);
}

std::size_t RescueStore::count(const std::string& user) const {
    if (check_dir(dir_, euid_)) {
        return 0;
    }
    const auto codes = read(user);
    return codes ? codes->hashes.size() : 0;
}

std::optional<std::string> RescueStore::list(std::vector<std::pair<std::string, std::size_t>>& out) const {
    out.clear();
    struct stat st {};
    if (::lstat(dir_.c_str(), &st) != 0 && errno == ENOENT) {
        return std::nullopt;  // nothing issued yet
    }
    if (auto problem = check_dir(dir_, euid_)) {
        return problem;
    }
    DIR* dir = ::opendir(dir_.c_str());
    if (dir == nullptr) {
        return "cannot read " + dir_ + ": " + std::strerror(errno);
    }
    while (const dirent* entry = ::readdir(dir)) {
        if (std::strncmp(entry->d_name, kPrefix, std::strlen(kPrefix)) != 0) {
            continue;
        }
        const auto text = read_state_file(dir_, entry->d_name, euid_);
        if (!text) {
            continue;
        }
        const std::string_view all = text->view();
        const std::string_view first = all.substr(0, std::min(all.find('\n'), all.size()));
        if (first.compare(0, std::strlen(kUserTag), kUserTag) != 0) {
            continue;
        }
        const std::string user(first.substr(std::strlen(kUserTag)));
        if (state_record_name(kPrefix, user) != entry->d_name) {
            continue;
        }
        if (const auto codes = read(user)) {
            out.emplace_back(user, codes->hashes.size());
        }
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end());
    return std::nullopt;
}

std::optional<std::string> RescueStore::revoke(const std::string& user, std::size_t& removed) {
    removed = 0;
    struct stat st {};
    if (::lstat(dir_.c_str(), &st) != 0 && errno == ENOENT) {
        return std::nullopt;  // nothing issued yet
    }
    if (auto problem = check_dir(dir_, euid_)) {
        return problem;
    }
    DirLock lock(dir_);
    if (!lock.held()) {
        return "cannot lock " + dir_ + "/.lock: " + std::strerror(errno);
    }
    const auto codes = read(user);
    if (!codes) {
        return std::nullopt;
    }
    if (::unlink((dir_ + "/" + state_record_name(kPrefix, user)).c_str()) != 0) {
        return "cannot remove the rescue codes of " + user + ": " + std::strerror(errno);
    }
    removed = codes->hashes.size();
    return std::nullopt;
}

RescueUse RescueStore::consume(const std::string& user, std::string_view code) {
    RescueUse use;
    if (auto problem = check_dir(dir_, euid_)) {
        use.problem = *problem;
        return use;
    }
    DirLock lock(dir_);
    if (!lock.held()) {
        use.problem = "cannot lock " + dir_ + "/.lock: " + std::strerror(errno);
        return use;
    }
    // Read under the lock: a login that waited for it sees what the one
    // before it left.
    auto codes = read(user);
    if (!codes) {
        use.result = RescueUse::Result::Wrong;
        return use;
    }
    const auto hit = std::find_if(codes->hashes.begin(), codes->hashes.end(),
                                  [code](const std::string& hash) { return matches(code, hash); });
    if (hit == codes->hashes.end()) {
        use.result = RescueUse::Result::Wrong;
        use.left = codes->hashes.size();
        return use;
    }
    codes->hashes.erase(hit);
    if (auto problem = write(user, *codes)) {
        use.problem = *problem + "; the rescue code was not used";
        return use;
    }
    use.result = RescueUse::Result::Used;
    use.left = codes->hashes.size();
    return use;
}

}  // namespace pamfac

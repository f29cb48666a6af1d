#include "facctl/pam_service.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "core/text.h"

namespace facctl {
namespace {

// Linux-PAM itself stops far earlier than any real stack needs.
constexpr int kMaxIncludeDepth = 16;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Splits a line into words; a word that starts with '[' runs to the next ']'
// not escaped as "\]" (the control "[success=1 default=ignore]", or an
// argument holding spaces), and loses its brackets when it is an argument.
std::optional<std::vector<std::string>> split_words(const std::string& line, std::string& problem) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_space(line[i])) {
            ++i;
        }
        if (i >= line.size()) {
            break;
        }
        std::string word;
        if (line[i] == '[') {
            word += '[';
            ++i;
            bool closed = false;
            while (i < line.size()) {
                if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == ']') {
                    word += ']';
                    i += 2;
                    continue;
                }
                if (line[i] == ']') {
                    closed = true;
                    ++i;
                    break;
                }
                word += line[i++];
            }
            if (!closed) {
                problem = "'[' without a closing ']'";
                return std::nullopt;
            }
            word += ']';
        } else {
            while (i < line.size() && !is_space(line[i])) {
                word += line[i++];
            }
        }
        words.push_back(word);
    }
    return words;
}

std::string base_name(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Reader {
    std::string pam_dir;
    PamServiceStack& out;
    std::vector<std::string> open_files;  // the include chain, for loops

    std::string resolve(const std::string& name) const {
        return !name.empty() && name.front() == '/' ? name : pam_dir + "/" + name;
    }

    std::optional<std::string> read(const std::string& path, const std::string& included_from) {
        const std::string from = included_from.empty() ? "" : " (included from " + included_from + ")";
        if (std::find(open_files.begin(), open_files.end(), path) != open_files.end()) {
            return path + " includes itself" + from;
        }
        if (static_cast<int>(open_files.size()) >= kMaxIncludeDepth) {
            return path + ": includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep" + from;
        }
        std::ifstream file(path);
        if (!file) {
            return path + " cannot be read" + from;
        }
        if (std::find(out.files.begin(), out.files.end(), path) == out.files.end()) {
            out.files.push_back(path);
        }
        open_files.push_back(path);
        std::string raw;
        std::string logical;
        int number = 0;
        int first_line = 0;
        while (std::getline(file, raw)) {
            ++number;
            if (logical.empty()) {
                first_line = number;
            }
            const std::size_t hash = raw.find('#');
            if (hash != std::string::npos) {
                raw.erase(hash);
            }
            if (!raw.empty() && raw.back() == '\\') {
                raw.back() = ' ';
                logical += raw;
                continue;
            }
            logical += raw;
            const std::string where = path + ":" + std::to_string(first_line);
            std::optional<std::string> error = parse_line(logical, where);
            logical.clear();
            if (error) {
                open_files.pop_back();
                return error;
            }
        }
        open_files.pop_back();
        return std::nullopt;
    }

    std::optional<std::string> parse_line(const std::string& line, const std::string& where) {
        std::string problem;
        const std::optional<std::vector<std::string>> words = split_words(line, problem);
        if (!words) {
            return where + ": " + problem;
        }
        if (words->empty()) {
            return std::nullopt;
        }
        const std::vector<std::string>& w = *words;
        if (w[0] == "@include") {
            if (w.size() != 2) {
                return where + ": @include takes one file name";
            }
            return read(resolve(w[1]), where);
        }
        std::string type = w[0];
        if (!type.empty() && type.front() == '-') {
            type.erase(0, 1);
        }
        std::transform(type.begin(), type.end(), type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (type != "auth" && type != "account" && type != "password" && type != "session") {
            return where + ": '" + pamfac::printable(w[0]) + "' is not a PAM type (auth, account, password, session)";
        }
        if (w.size() < 3) {
            return where + ": a " + type + " line needs a control and a module";
        }
        if (w[1] == "include" || w[1] == "substack") {
            return read(resolve(w[2]), where);
        }
        if (base_name(w[2]) != "pam_fac.so") {
            return std::nullopt;
        }
        PamModuleLine fac;
        fac.where = where;
        fac.type = type;
        std::ostringstream text;
        for (std::size_t i = 0; i < w.size(); ++i) {
            text << (i == 0 ? "" : " ") << w[i];
            if (i >= 3) {
                const bool bracketed = w[i].size() >= 2 && w[i].front() == '[' && w[i].back() == ']';
                fac.args.push_back(bracketed ? w[i].substr(1, w[i].size() - 2) : w[i]);
            }
        }
        fac.text = text.str();
        out.fac_lines.push_back(fac);
        return std::nullopt;
    }
};

}  // namespace

std::optional<std::string> read_pam_service(const std::string& pam_dir, const std::string& service,
                                            PamServiceStack& out) {
    if (service.empty() || service == "." || service == ".." || service.find('/') != std::string::npos) {
        return "'" + pamfac::printable(service) + "' is not a PAM service name";
    }
    Reader reader{pam_dir, out, {}};
    return reader.read(pam_dir + "/" + service, "");
}

}  // namespace facctl

#include "facctl/facctl_args.h"

#include <cstring>

#include "core/text.h"

namespace facctl {

char* ParsedArgs::value(const std::string& name) const {
    const auto it = options.find(name);
    return it == options.end() ? nullptr : it->second;
}

std::optional<std::string> parse_args(int argc, char** argv, const std::vector<OptionSpec>& specs, ParsedArgs& out) {
    bool options_done = false;
    for (int i = 0; i < argc; ++i) {
        char* word = argv[i];
        if (options_done || word[0] != '-' || std::strcmp(word, "-") == 0) {
            out.positionals.push_back(word);
            continue;
        }
        if (std::strcmp(word, "--") == 0) {
            options_done = true;
            continue;
        }
        if (std::strcmp(word, "-h") == 0 || std::strcmp(word, "--help") == 0) {
            out.help = true;
            continue;
        }
        char* eq = std::strchr(word, '=');
        const std::string name = eq != nullptr ? std::string(word, static_cast<std::size_t>(eq - word)) : word;
        const OptionSpec* spec = nullptr;
        for (const OptionSpec& s : specs) {
            if (name == s.name) {
                spec = &s;
            }
        }
        if (spec == nullptr || name.size() < 3) {
            return "unknown option '" + pamfac::printable(name) + "'";
        }
        if (out.has(name)) {
            return "option " + name + " given twice";
        }
        char* value = nullptr;
        if (spec->takes_value) {
            if (eq != nullptr) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return "option " + name + " needs a value";
            }
        } else if (eq != nullptr) {
            return "option " + name + " takes no value";
        }
        out.options.emplace(name, value);
    }
    return std::nullopt;
}

}  // namespace facctl

// facctl's command-line options: --name VALUE, --name=VALUE, -h, and "--"
// to end them. Values stay pointers into argv, so that facctl auth can wipe
// a --code from the process's command line after copying it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace facctl {

struct OptionSpec {
    const char* name;  // "--code"
    bool takes_value;
};

struct ParsedArgs {
    std::map<std::string, char*> options;  // name -> value (null for flags)
    std::vector<char*> positionals;
    bool help = false;  // -h or --help

    bool has(const std::string& name) const { return options.count(name) != 0; }
    // The option's value, or null when it was not given.
    char* value(const std::string& name) const;
};

// Parses argv[0..argc) (the words after the command). An unknown option, a
// missing value or a repeated option is an error, as a one-line message.
std::optional<std::string> parse_args(int argc, char** argv, const std::vector<OptionSpec>& specs, ParsedArgs& out);

}  // namespace facctl

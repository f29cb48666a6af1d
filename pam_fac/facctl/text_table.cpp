#include "facctl/text_table.h"

#include <algorithm>

namespace facctl {
namespace {

// Terminal columns of UTF-8 text, counting each code point as one.
std::size_t columns(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

void TextTable::print(std::FILE* out, const std::string& indent) const {
    std::vector<std::size_t> width;
    for (const auto& row : rows_) {
        if (width.size() < row.size()) {
            width.resize(row.size(), 0);
        }
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], columns(row[i]));
        }
    }
    for (const auto& row : rows_) {
        std::string line = indent;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(width[i] - columns(row[i]) + 2, ' ');
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        line += '\n';
        (void)std::fputs(line.c_str(), out);  // the caller checks the stream once, at the end
    }
}

}  // namespace facctl

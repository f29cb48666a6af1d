// Left-aligned columns for facctl's tables, sized to their widest cell.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace facctl {

class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::size_t rows() const { return rows_.size() - 1; }
    // Each line starts with `indent`; the last column is not padded.
    void print(std::FILE* out, const std::string& indent = "") const;

private:
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace facctl

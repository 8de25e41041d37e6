// SPDX-License-Identifier: Apache-2.0
// "did you mean ...?" for unknown keys: the nearest option name by edit distance.
#include "config/did_you_mean.hpp"

#include <algorithm>

namespace vigil::config {

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
    auto distance = [](std::string_view a, std::string_view b) {
        std::vector<std::size_t> row(b.size() + 1);
        for (std::size_t j = 0; j <= b.size(); ++j) {
            row[j] = j;
        }
        for (std::size_t i = 1; i <= a.size(); ++i) {
            std::size_t diag = row[0];
            row[0] = i;
            for (std::size_t j = 1; j <= b.size(); ++j) {
                std::size_t up = row[j];
                row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
                diag = up;
            }
        }
        return row[b.size()];
    };
    std::optional<std::string> best;
    std::size_t best_d = 0;
    for (const auto& c : candidates) {
        auto d = distance(word, c);
        // About a third of the word's length, 1 to 3 edits: typos, not guesses.
        auto limit = std::clamp<std::size_t>(word.size() / 3, word.size() >= 4 ? 2 : 1, 3);
        if (d <= limit && (!best || d < best_d)) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

}  // namespace vigil::config

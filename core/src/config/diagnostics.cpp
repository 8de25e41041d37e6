// SPDX-License-Identifier: Apache-2.0
#include <algorithm>

#include <fmt/core.h>

#include "vigil/config.hpp"

namespace vigil {

std::string Diagnostic::render() const {
    std::string out;
    if (!location.file.empty()) {
        out += location.file;
        if (location.line > 0) {
            out += fmt::format(":{}:{}", location.line, location.column);
        }
        out += ": ";
    }
    out += severity == Severity::Error ? "error: " : "warning: ";
    if (!path.empty()) {
        out += path;
        out += ": ";
    }
    out += message;
    return out;
}

void Diagnostics::error(SourceLocation where, std::string path, std::string message) {
    entries_.push_back({Diagnostic::Severity::Error, std::move(where), std::move(path), std::move(message)});
}

void Diagnostics::warning(SourceLocation where, std::string path, std::string message) {
    entries_.push_back({Diagnostic::Severity::Warning, std::move(where), std::move(path), std::move(message)});
}

void Diagnostics::error(std::string message) { error({}, {}, std::move(message)); }

bool Diagnostics::has_errors() const noexcept { return error_count() > 0; }

std::size_t Diagnostics::error_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const Diagnostic& d) {
        return d.severity == Diagnostic::Severity::Error;
    }));
}

std::string Diagnostics::render(std::size_t cap) const {
    std::vector<const Diagnostic*> sorted;
    sorted.reserve(entries_.size());
    for (const auto& d : entries_) {
        sorted.push_back(&d);
    }
    // File order, as a compiler prints them; unlocated messages keep their relative order.
    std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
        return std::tie(a->location.file, a->location.line, a->location.column) <
               std::tie(b->location.file, b->location.line, b->location.column);
    });
    std::string out;
    std::size_t shown = 0;
    for (const auto* d : sorted) {
        if (shown == cap) {
            out += fmt::format("... and {} more\n", sorted.size() - cap);
            break;
        }
        out += d->render();
        out += '\n';
        ++shown;
    }
    return out;
}

}  // namespace vigil

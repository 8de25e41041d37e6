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

void Diagnostics::add(Diagnostic::Severity severity, SourceLocation where, std::string path, std::string message) {
    if (severity == Diagnostic::Severity::Error) {
        ++errors_;
    }
    // The same problem found twice (a plugin-level value every site inherits) is printed once.
    auto key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", static_cast<int>(severity), where.file, where.line,
                           where.column, path, message);
    if (!seen_.insert(std::move(key)).second) {
        return;
    }
    entries_.push_back({severity, std::move(where), std::move(path), std::move(message)});
}

void Diagnostics::error(SourceLocation where, std::string path, std::string message) {
    add(Diagnostic::Severity::Error, std::move(where), std::move(path), std::move(message));
}

void Diagnostics::warning(SourceLocation where, std::string path, std::string message) {
    add(Diagnostic::Severity::Warning, std::move(where), std::move(path), std::move(message));
}

void Diagnostics::error(std::string message) { error({}, {}, std::move(message)); }

bool Diagnostics::has_errors() const noexcept { return error_count() > 0; }

std::size_t Diagnostics::error_count() const noexcept { return errors_; }

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

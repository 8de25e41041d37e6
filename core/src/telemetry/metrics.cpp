// SPDX-License-Identifier: Apache-2.0
#include <map>
#include <memory>
#include <mutex>

#include <fmt/core.h>

#include "vigil/metrics.hpp"

namespace vigil {
namespace {

std::string label_text(const Labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        out += fmt::format("{}{}=\"", i ? "," : "", labels[i].first);
        for (char c : labels[i].second) {  // exposition format escapes
            if (c == '\\' || c == '"') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else {
                out += c;
            }
        }
        out += '"';
    }
    return out + "}";
}

struct Family {
    std::string help;
    const char* type = "counter";
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by label text
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
};

struct Registry {
    std::mutex mutex;
    std::map<std::string, Family, std::less<>> families;
};

Registry& registry() {
    static auto* r = new Registry();  // never destroyed: references are handed out for good
    return *r;
}

}  // namespace

Counter& counter(std::string_view name, const Labels& labels, std::string_view help) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto& family = r.families[std::string(name)];
    if (family.help.empty()) {
        family.help = help;
    }
    auto& slot = family.counters[label_text(labels)];
    if (!slot) {
        slot = std::make_unique<Counter>();
    }
    return *slot;
}

Gauge& gauge(std::string_view name, const Labels& labels, std::string_view help) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto& family = r.families[std::string(name)];
    family.type = "gauge";
    if (family.help.empty()) {
        family.help = help;
    }
    auto& slot = family.gauges[label_text(labels)];
    if (!slot) {
        slot = std::make_unique<Gauge>();
    }
    return *slot;
}

std::string render_prometheus() {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    std::string out;
    for (const auto& [name, family] : r.families) {
        if (!family.help.empty()) {
            out += fmt::format("# HELP {} {}\n", name, family.help);
        }
        out += fmt::format("# TYPE {} {}\n", name, family.type);
        for (const auto& [labels, c] : family.counters) {
            out += fmt::format("{}{} {}\n", name, labels, c->value());
        }
        for (const auto& [labels, g] : family.gauges) {
            out += fmt::format("{}{} {}\n", name, labels, g->value());
        }
    }
    return out;
}

}  // namespace vigil

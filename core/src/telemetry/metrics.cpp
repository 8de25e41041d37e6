// SPDX-License-Identifier: Apache-2.0
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/core.h>

#include "vigil/metrics.hpp"
#include "vigil/sync.hpp"

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
    std::set<std::string> hidden;  // gauges not exported until looked up again
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
};

struct Registry {
    Mutex mutex;
    std::map<std::string, Family, std::less<>> families VIGIL_GUARDED_BY(mutex);
};

Registry& registry() {
    static auto* r = new Registry();  // never destroyed: references are handed out for good
    return *r;
}

}  // namespace

Counter& counter(std::string_view name, const Labels& labels, std::string_view help) {
    auto& r = registry();
    Lock lock(r.mutex);
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
    Lock lock(r.mutex);
    auto& family = r.families[std::string(name)];
    family.type = "gauge";
    if (family.help.empty()) {
        family.help = help;
    }
    auto text = label_text(labels);
    family.hidden.erase(text);
    auto& slot = family.gauges[text];
    if (!slot) {
        slot = std::make_unique<Gauge>();
    }
    return *slot;
}

void hide_gauge(std::string_view name, const Labels& labels) {
    auto& r = registry();
    Lock lock(r.mutex);
    if (auto it = r.families.find(name); it != r.families.end()) {
        auto text = label_text(labels);
        if (it->second.gauges.count(text) > 0) {
            it->second.hidden.insert(std::move(text));
        }
    }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        counts_[i].store(0, std::memory_order_relaxed);
    }
}

void Histogram::observe(double value) noexcept {
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) {
        ++i;
    }
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    double old = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {
    }
}

const std::vector<double>& latency_buckets() {
    static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    return b;
}

Histogram& histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                     std::string_view help) {
    auto& r = registry();
    Lock lock(r.mutex);
    auto& family = r.families[std::string(name)];
    family.type = "histogram";
    if (family.help.empty()) {
        family.help = help;
    }
    auto& slot = family.histograms[label_text(labels)];
    if (!slot) {
        slot = std::make_unique<Histogram>(bounds);
    }
    return *slot;
}

std::string render_prometheus() {
    auto& r = registry();
    Lock lock(r.mutex);
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
            if (family.hidden.count(labels) == 0) {
                out += fmt::format("{}{} {}\n", name, labels, g->value());
            }
        }
        for (const auto& [labels, h] : family.histograms) {
            // `le` joins the instance's labels: {a="1"} -> {a="1",le="0.5"}.
            auto with_le = [&, &labels = labels](const std::string& le) {
                return labels.empty() ? fmt::format("{{le=\"{}\"}}", le)
                                      : fmt::format("{},le=\"{}\"}}", labels.substr(0, labels.size() - 1), le);
            };
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < h->bounds().size(); ++i) {
                cumulative += h->bucket(i);
                out += fmt::format("{}_bucket{} {}\n", name, with_le(fmt::format("{}", h->bounds()[i])), cumulative);
            }
            cumulative += h->bucket(h->bounds().size());
            out += fmt::format("{}_bucket{} {}\n", name, with_le("+Inf"), cumulative);
            out += fmt::format("{}_sum{} {}\n", name, labels, h->sum());
            out += fmt::format("{}_count{} {}\n", name, labels, h->count());
        }
    }
    return out;
}

}  // namespace vigil

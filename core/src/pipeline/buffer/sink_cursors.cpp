// SPDX-License-Identifier: Apache-2.0
#include "pipeline/buffer/sink_cursors.hpp"

#include <algorithm>

namespace vigil::pipeline::buffer {

SinkCursors::SinkCursors(std::vector<std::string> names) {
    for (auto& name : names) {
        SinkCursor c;
        c.name = std::move(name);
        cursors_.push_back(std::move(c));
    }
}

std::vector<std::string> SinkCursors::restore(const std::vector<std::pair<std::string, std::uint64_t>>& saved,
                                              std::uint64_t first) {
    std::vector<std::string> forget;
    for (const auto& entry : saved) {
        bool known =
            std::any_of(cursors_.begin(), cursors_.end(), [&](const SinkCursor& c) { return c.name == entry.first; });
        if (!known) {
            forget.push_back(entry.first);
        }
    }
    for (auto& c : cursors_) {
        auto it = std::find_if(saved.begin(), saved.end(), [&](const auto& p) { return p.first == c.name; });
        // Records before `first` are gone: a position behind them moves up to them.
        c.acked = it != saved.end() ? std::max(it->second, first - 1) : first - 1;
        c.handed = c.acked;
        c.window.clear();
        c.dirty = it == saved.end();
    }
    return forget;
}

void SinkCursors::resolve(std::size_t sink, std::uint64_t sequence, bool delivered) {
    if (sink >= cursors_.size()) {
        return;
    }
    auto& c = cursors_[sink];
    auto it = std::find(c.window.begin(), c.window.end(), sequence);
    if (it == c.window.end()) {
        return;
    }
    if (delivered) {
        c.window.erase(c.window.begin(), it + 1);
        if (sequence > c.acked) {
            c.acked = sequence;
            c.dirty = true;
        }
    } else {
        c.window.erase(it);
    }
    if (c.window.empty()) {
        if (delivered && c.handed > c.acked) {
            c.acked = c.handed;  // the gap handed past held no record
            c.dirty = true;
        } else if (!delivered) {
            c.handed = c.acked;  // given up: handed out again (after a restart)
        }
    }
}

void SinkCursors::hand(std::size_t sink, std::uint64_t last) {
    auto& c = cursors_[sink];
    c.window.push_back(last);
    c.handed = last;
}

void SinkCursors::skip(std::size_t sink, std::uint64_t last) {
    auto& c = cursors_[sink];
    c.handed = last;
    if (c.window.empty()) {
        c.acked = c.handed;
        c.dirty = true;
    }
}

std::uint64_t SinkCursors::min_acked(std::uint64_t newest) const {
    std::uint64_t m = newest;
    for (const auto& c : cursors_) {
        m = std::min(m, c.acked);
    }
    return m;
}

std::uint64_t SinkCursors::held_through(std::uint64_t id) const {
    std::uint64_t held = 0;
    for (const auto& c : cursors_) {
        if (c.holds(id)) {
            held = std::max(held, c.handed);
        }
    }
    return held;
}

bool SinkCursors::all_past(std::uint64_t last) const {
    return std::all_of(cursors_.begin(), cursors_.end(), [&](const SinkCursor& c) { return c.handed >= last; });
}

bool SinkCursors::idle() const {
    return std::all_of(cursors_.begin(), cursors_.end(), [](const SinkCursor& c) { return c.window.empty(); });
}

bool SinkCursors::dirty() const {
    return std::any_of(cursors_.begin(), cursors_.end(), [](const SinkCursor& c) { return c.dirty; });
}

void SinkCursors::clean() {
    for (auto& c : cursors_) {
        c.dirty = false;
    }
}

}  // namespace vigil::pipeline::buffer

// SPDX-License-Identifier: Apache-2.0
// Where each sink of a disk buffer is in the store: the records it acknowledged, those it was
// handed, and the batches it holds. Pure bookkeeping (no LMDB), so every rule about positions is
// tested on its own: a record leaves the store only once every sink is past it, a batch given up
// at shutdown is handed out again, a record a sink holds is never dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace vigil::pipeline::buffer {

struct SinkCursor {
    std::string name;
    std::uint64_t acked = 0;           // every record with an id <= acked is done for this sink
    std::uint64_t handed = 0;          // the highest id handed to the sink (or skipped: a gap)
    std::deque<std::uint64_t> window;  // sequences (a batch's last id) handed and not yet resolved
    bool dirty = false;                // acked changed since the last commit

    /// Whether the record `id` is in a batch the sink holds right now.
    bool holds(std::uint64_t id) const { return !window.empty() && id > acked && id <= handed; }
};

class SinkCursors {
  public:
    explicit SinkCursors(std::vector<std::string> names);

    std::size_t size() const { return cursors_.size(); }
    SinkCursor& operator[](std::size_t i) { return cursors_[i]; }
    const SinkCursor& operator[](std::size_t i) const { return cursors_[i]; }
    auto begin() const { return cursors_.begin(); }
    auto end() const { return cursors_.end(); }

    /// At open: the positions an earlier run saved. A sink without one starts at the oldest
    /// stored record, `first` (and is dirty, so its position is saved). Returns the saved names
    /// of sinks no longer in the pipeline (their positions are to be forgotten).
    std::vector<std::string> restore(const std::vector<std::pair<std::string, std::uint64_t>>& saved,
                                     std::uint64_t first);

    /// Sink `sink` resolved the batch ending at `sequence`: delivered (its position moves past it
    /// and whatever precedes it, since a runner resolves in order) or given up (handed out again
    /// after a restart). Unknown sinks and sequences are ignored.
    void resolve(std::size_t sink, std::uint64_t sequence, bool delivered);
    /// Sink `sink` was handed the batch whose last id is `last`.
    void hand(std::size_t sink, std::uint64_t last);
    /// Nothing to hand sink `sink` through `last` (dropped or damaged records): it moves past.
    void skip(std::size_t sink, std::uint64_t last);

    /// The highest id every sink acknowledged (`newest` when there is no sink).
    std::uint64_t min_acked(std::uint64_t newest) const;
    /// The highest id handed to a sink holding `id` (0: no sink holds it, it may be dropped).
    std::uint64_t held_through(std::uint64_t id) const;
    /// Whether every sink was handed the records through `last`.
    bool all_past(std::uint64_t last) const;
    /// No sink holds a batch.
    bool idle() const;
    /// Some position changed since the last commit.
    bool dirty() const;
    void clean();

  private:
    std::vector<SinkCursor> cursors_;
};

}  // namespace vigil::pipeline::buffer

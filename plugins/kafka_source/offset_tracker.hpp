// SPDX-License-Identifier: Apache-2.0
// Which offsets may be committed: per partition, only the contiguous prefix of consumed messages
// whose batches were acknowledged (or whose dead letters were delivered). Telegraf's Kafka input
// once committed a later offset past an earlier undelivered message; this is the guard.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka_source {

struct TopicPartition {
    std::string topic;
    std::int32_t partition = 0;
    // clang-tidy 14 reads the defaulted comparison as a literal 0 for a pointer.
    auto operator<=>(const TopicPartition&) const = default;  // NOLINT(modernize-use-nullptr)
};

/// Where one consumed message is tracked: its partition's id and assignment epoch, and offset.
struct Coord {
    std::uint32_t id = 0;
    std::uint64_t epoch = 0;  // 0: not tracked (its partition was not assigned)
    std::int64_t offset = 0;
};

/// Thread-safe: messages are tracked on the source's thread, acknowledged on a core thread.
class OffsetTracker {
  public:
    struct Commit {
        TopicPartition tp;
        std::int64_t offset;  // the next offset to read, as Kafka commits it
    };

    /// A partition was assigned: tracking starts afresh under a new epoch, so acknowledgements
    /// of messages read under an earlier assignment are ignored.
    void assign(const TopicPartition& tp);
    /// A partition was revoked: returns its position if not committed yet, and stops tracking it.
    std::optional<std::int64_t> revoke(const TopicPartition& tp);

    /// A message was read. Returns its coordinates for done(); epoch 0 if not assigned.
    Coord track(const TopicPartition& tp, std::int64_t offset);
    /// The message's batch was acknowledged (or its dead letter delivered).
    void done(const Coord& c);
    /// Whether `c` was tracked under its partition's current assignment (false once revoked).
    bool is_current(const Coord& c) const;

    /// Positions advanced past what was last asked to be committed; marks them asked.
    std::vector<Commit> take_commits();
    /// Every position not confirmed yet (for a periodic or final commit); marks them asked.
    std::vector<Commit> unconfirmed();
    /// The broker confirmed (ok) or refused a commit of `offset`.
    void commit_result(const TopicPartition& tp, std::int64_t offset, bool ok);

    std::vector<TopicPartition> assigned() const;
    /// Messages read and not yet done, over all partitions.
    std::size_t outstanding() const;
    /// The position of a partition (next offset to commit), or nullopt.
    std::optional<std::int64_t> position(const TopicPartition& tp) const;

  private:
    struct Entry {
        std::int64_t offset;
        bool done;
    };
    struct State {
        TopicPartition tp;
        std::uint64_t epoch = 0;  // 0: not assigned
        std::deque<Entry> entries;
        std::int64_t position = -1;   // next offset to commit; -1: nothing read yet
        std::int64_t requested = -1;  // last offset asked to be committed
        std::int64_t confirmed = -1;  // last offset the broker confirmed
    };
    State* find(const TopicPartition& tp) VIGIL_REQUIRES(mutex_);
    const State* find(const TopicPartition& tp) const VIGIL_REQUIRES(mutex_);

    mutable Mutex mutex_;
    std::map<TopicPartition, std::uint32_t> ids_ VIGIL_GUARDED_BY(mutex_);
    std::vector<State> states_ VIGIL_GUARDED_BY(mutex_);
    std::uint64_t next_epoch_ VIGIL_GUARDED_BY(mutex_) = 1;
};

}  // namespace vigil::plugins::kafka_source

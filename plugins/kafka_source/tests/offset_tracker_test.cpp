// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "offset_tracker.hpp"

using vigil::plugins::kafka_source::Coord;
using vigil::plugins::kafka_source::OffsetTracker;
using vigil::plugins::kafka_source::TopicPartition;

namespace {
std::int64_t commit_of(OffsetTracker& t, const TopicPartition& tp) {
    for (const auto& c : t.take_commits()) {
        if (c.tp == tp) {
            return c.offset;
        }
    }
    return -1;
}
}  // namespace

TEST_CASE("offset tracker: only the contiguous acknowledged prefix is committed", "[unit]") {
    OffsetTracker t;
    TopicPartition p0{"t", 0}, p1{"t", 1};
    t.assign(p0);
    t.assign(p1);
    std::vector<Coord> c;
    for (int o = 10; o < 15; ++o) {
        c.push_back(t.track(p0, o));
    }
    auto other = t.track(p1, 7);
    CHECK(t.take_commits().empty());

    t.done(c[1]);  // 11 acked before 10: nothing may be committed yet
    t.done(c[3]);
    CHECK(t.take_commits().empty());
    t.done(c[0]);  // 10 and 11 done: next to read is 12
    CHECK(commit_of(t, p0) == 12);
    t.done(c[2]);  // 12, 13 done (13 was already)
    CHECK(commit_of(t, p0) == 14);
    CHECK(t.take_commits().empty());  // asked once only
    t.done(other);
    CHECK(commit_of(t, p1) == 8);
    CHECK(t.outstanding() == 1);
    t.done(c[4]);
    CHECK(commit_of(t, p0) == 15);
    CHECK(t.outstanding() == 0);
}

TEST_CASE("offset tracker: acknowledgements after a revoke are ignored, a new assignment starts afresh", "[unit]") {
    OffsetTracker t;
    TopicPartition p{"t", 2};
    t.assign(p);
    auto a = t.track(p, 100);
    auto b = t.track(p, 101);
    t.done(a);
    auto pos = t.revoke(p);
    REQUIRE(pos);
    CHECK(*pos == 101);            // acknowledged but not committed: the revoke commits it
    CHECK_FALSE(t.is_current(b));  // records read before the revoke are dropped, not handed on
    t.done(b);                     // late: the partition is someone else's now
    CHECK(t.take_commits().empty());
    CHECK(t.track(p, 102).epoch == 0);  // not assigned: not tracked

    t.assign(p);
    auto again = t.track(p, 101);  // the new owner reads from the committed 101
    t.done(b);                     // the old epoch's ack still does not count
    CHECK(t.take_commits().empty());
    CHECK(t.is_current(again));
    t.done(again);
    CHECK(commit_of(t, p) == 102);
}

TEST_CASE("offset tracker: a failed commit is asked again; a confirmed one is not", "[unit]") {
    OffsetTracker t;
    TopicPartition p{"t", 0};
    t.assign(p);
    t.done(t.track(p, 0));
    CHECK(commit_of(t, p) == 1);
    t.commit_result(p, 1, false);
    CHECK(commit_of(t, p) == 1);
    t.commit_result(p, 1, true);
    CHECK(t.unconfirmed().empty());
    CHECK(t.revoke(p) == std::nullopt);  // confirmed already: nothing to commit on revoke
}

TEST_CASE("offset tracker: a rewind forgets the later entries instead of waiting for them", "[unit]") {
    OffsetTracker t;
    TopicPartition p{"t", 0};
    t.assign(p);
    auto a = t.track(p, 5);
    t.track(p, 6);
    t.track(p, 7);
    auto again6 = t.track(p, 6);  // fetched again from 6
    CHECK(t.outstanding() == 2);
    t.done(a);
    t.done(again6);
    CHECK(commit_of(t, p) == 7);
}

// SPDX-License-Identifier: Apache-2.0
// The disk buffer's position rules and size arithmetic, without LMDB.
#include <catch2/catch.hpp>

#include "pipeline/buffer/sink_cursors.hpp"
#include "pipeline/buffer/size_budget.hpp"

using vigil::pipeline::buffer::SinkCursors;
using vigil::pipeline::buffer::SizeBudget;

TEST_CASE("sink cursors: a record leaves only when every sink is past it; resolving is in order", "[unit][buffer]") {
    SinkCursors c({"a", "b"});
    c.restore({}, 1);
    CHECK(c.dirty());  // new sinks: their positions are saved at the next commit
    c.clean();
    c.hand(0, 10);
    c.hand(0, 20);
    c.hand(1, 10);
    CHECK(c.min_acked(20) == 0);
    c.resolve(0, 20, true);  // a runner resolves in order: 10 is done too
    CHECK(c[0].acked == 20);
    CHECK(c[0].window.empty());
    CHECK(c.min_acked(20) == 0);  // b holds 1..10
    c.resolve(1, 10, true);
    CHECK(c.min_acked(20) == 10);
    CHECK(c.dirty());
    c.resolve(1, 99, true);  // not handed: ignored
    c.resolve(7, 10, true);  // no such sink: ignored
    CHECK(c[1].acked == 10);
}

TEST_CASE("sink cursors: a batch given up at shutdown is handed out again; a record a sink holds is never dropped",
          "[unit][buffer]") {
    SinkCursors c({"a"});
    c.restore({{"a", 5}}, 1);
    CHECK_FALSE(c.dirty());
    c.hand(0, 15);
    CHECK(c.held_through(6) == 15);
    CHECK(c.held_through(5) == 0);   // acknowledged: droppable
    CHECK(c.held_through(16) == 0);  // not handed yet
    CHECK_FALSE(c.idle());
    c.resolve(0, 15, false);
    CHECK(c.idle());
    CHECK(c[0].handed == 5);  // handed out again from 6
    CHECK(c[0].acked == 5);
    CHECK(c.held_through(6) == 0);
}

TEST_CASE("sink cursors: a gap (dropped or damaged records) is skipped; positions of removed sinks are forgotten",
          "[unit][buffer]") {
    SinkCursors c({"a", "new"});
    auto forget = c.restore({{"a", 3}, {"gone", 9}}, 8);
    CHECK(forget == std::vector<std::string>{"gone"});
    CHECK(c[0].acked == 7);  // records before 8 are gone: its position moves up to them
    CHECK(c[1].acked == 7);  // a sink new to the buffer starts at the oldest record
    CHECK(c[1].dirty);
    c.clean();
    c.skip(0, 12);
    CHECK(c[0].acked == 12);  // nothing held: the gap is acknowledged at once
    CHECK(c.dirty());
    c.hand(1, 10);
    c.skip(1, 12);
    CHECK(c[1].acked == 7);  // still holds 8..10
    c.resolve(1, 10, true);
    CHECK(c[1].acked == 12);  // ... and once it is resolved, the gap after it is passed too
    CHECK(c.all_past(12));
    CHECK_FALSE(c.all_past(13));
}

TEST_CASE("size budget: records may fill 85% of max_size in pages, measured on the store", "[unit][buffer]") {
    SizeBudget b(100u << 20);
    // Too few pages to measure: 1.25 pages per counted byte is assumed.
    CHECK(b.limit() == static_cast<std::uint64_t>((100u << 20) * 0.85 / 1.25));
    b.measured(1000, 4096, 2'048'000);  // 2 bytes of pages per counted byte
    CHECK(b.ratio() == Approx(2.0));
    CHECK(b.limit() == static_cast<std::uint64_t>((100u << 20) * 0.85 / 2.0));
    CHECK(b.fits(0, b.limit(), 0));
    CHECK_FALSE(b.fits(1, b.limit(), 5));
    CHECK(b.fits(1, b.limit(), 0));  // an empty store takes any batch: MAP_FULL says if it cannot
    b.filled_early();
    CHECK(b.ratio() == Approx(2.2));
    b.measured(1000, 4096, 4'096'000);  // 1.0 measured, but the floor holds
    CHECK(b.ratio() == Approx(2.2));
    b.measured(0, 4096, 0);  // empty: measured afresh
    CHECK(b.ratio() == Approx(1.25));
    for (int i = 0; i < 30; ++i) {
        b.filled_early();
    }
    CHECK(b.ratio() == Approx(4.0));  // at most 4 pages' worth per byte
}

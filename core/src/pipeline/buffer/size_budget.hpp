// SPDX-License-Identifier: Apache-2.0
// How much a disk buffer's records may take. Records are counted in bytes (value plus a per-record
// overhead), but max_size bounds the file, which holds pages: the pages per counted byte are
// measured on the store, and the records may fill 85% of max_size in pages (the rest is LMDB's
// own: its free list and the pages a transaction copies, so that a commit that only deletes
// always finds room). Pure arithmetic, tested on its own.
#pragma once

#include <algorithm>
#include <cstdint>

namespace vigil::pipeline::buffer {

class SizeBudget {
  public:
    /// Bytes counted per record beyond its value: the 8-byte key and LMDB's node header.
    static constexpr std::uint64_t kRecordOverhead = 16;

    explicit SizeBudget(std::uint64_t max_size) : max_size_(max_size) {}

    /// The store's measure after a commit or at open: its records' pages and their counted bytes.
    void measured(std::uint64_t pages, unsigned page_size, std::uint64_t bytes) {
        pages_ = pages;
        page_size_ = page_size;
        bytes_ = bytes;
        if (bytes == 0) {
            floor_ = 0;  // empty: the next records are measured afresh
        }
    }
    /// The file filled up before the estimate said (pages freed in a commit cannot hold its
    /// new records): records count as taking 10% more room from here on (at most 4 pages' worth
    /// per byte).
    void filled_early() { floor_ = std::min(ratio() * 1.1, 4.0); }

    /// Pages per counted byte, measured once there are enough pages for it to mean something.
    double ratio() const {
        if (pages_ < 64 || bytes_ == 0) {
            return std::max(1.25, floor_);
        }
        return std::max({1.0, floor_, static_cast<double>(pages_ * page_size_) / static_cast<double>(bytes_)});
    }
    /// How many counted bytes the records may take.
    std::uint64_t limit() const { return static_cast<std::uint64_t>(static_cast<double>(max_size_) * 0.85 / ratio()); }
    /// Whether `adding` counted bytes fit beside `bytes` (a store with no record takes any
    /// batch: one larger than the budget is tried, and MAP_FULL says if it cannot be).
    bool fits(std::uint64_t bytes, std::uint64_t adding, std::uint64_t records) const {
        return bytes + adding <= limit() || records == 0;
    }
    std::uint64_t file_bytes() const { return pages_ * page_size_; }
    std::uint64_t pages() const { return pages_; }
    unsigned page_size() const { return page_size_; }

  private:
    std::uint64_t max_size_;
    std::uint64_t pages_ = 0;
    unsigned page_size_ = 4096;
    std::uint64_t bytes_ = 0;
    double floor_ = 0;
};

}  // namespace vigil::pipeline::buffer

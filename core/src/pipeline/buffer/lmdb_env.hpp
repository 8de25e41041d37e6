// SPDX-License-Identifier: Apache-2.0
// The little of LMDB the disk buffer needs, with ownership in destructors and every failure as
// one line naming the buffer's path. LMDB is the store because its commits are atomic and
// durable by construction (copy-on-write pages, two meta pages): a kill -9 or a power cut at any
// instant leaves the last committed transaction, never a torn one, so the buffer has no recovery
// code of its own to get wrong.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/status.hpp"

namespace vigil::pipeline::buffer {

/// One LMDB environment in a directory (data.mdb) with two databases: `records`, keyed by a
/// big-endian u64 id so that key order is id order, and `meta`, keyed by name.
///
/// Opened with MDB_NOLOCK: the owner serialises every transaction on one thread and holds an
/// flock of its own on the directory, so LMDB's lock file (and its stale-reader table after a
/// kill -9) is not needed.
class LmdbEnv {
  public:
    LmdbEnv() = default;
    ~LmdbEnv() { close(); }
    LmdbEnv(const LmdbEnv&) = delete;
    LmdbEnv& operator=(const LmdbEnv&) = delete;

    /// Opens (or creates) data.mdb in `dir`. A file LMDB cannot use, or one shorter than its
    /// last commit needs (truncated: reading it would fault), sets `damaged` to why and fails.
    Status open(const std::filesystem::path& dir, std::uint64_t map_size, std::string* damaged = nullptr);
    void close();
    bool is_open() const { return env_ != nullptr; }

    MDB_env* env() const { return env_; }
    MDB_dbi records() const { return records_; }
    MDB_dbi meta() const { return meta_; }
    const std::filesystem::path& dir() const { return dir_; }

    /// Raises the map size by `by` bytes. LMDB refuses (EINVAL) while a write transaction is
    /// open, so `txn` (the one that met MDB_MAP_FULL) is aborted first.
    Status grow(class Txn& txn, std::uint64_t by);
    std::uint64_t map_size() const;

    /// "buffer /var/lib/vigil/producer/buffer: <what>: <LMDB's or the system's reason>".
    std::string error(std::string_view what, int rc) const;

  private:
    std::filesystem::path dir_;
    MDB_env* env_ = nullptr;
    MDB_dbi records_ = 0;
    MDB_dbi meta_ = 0;
};

/// A transaction; aborted on destruction unless committed.
class Txn {
  public:
    Txn(const LmdbEnv& env, bool read_only);
    ~Txn();
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    /// LMDB's code from mdb_txn_begin (0 when the transaction is usable).
    int begin_rc() const { return rc_; }
    MDB_txn* get() const { return txn_; }
    /// 0 or LMDB's code; the transaction is finished either way.
    int commit();
    /// Drops what the transaction did (a no-op once finished).
    void abort();

  private:
    MDB_txn* txn_ = nullptr;
    int rc_ = 0;
};

/// A cursor over one database of a transaction.
class Cursor {
  public:
    Cursor(const Txn& txn, MDB_dbi dbi);
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;

    int rc() const { return rc_; }
    /// Positions at the first key >= `id`; false at the end (or on an error, in rc()).
    bool seek(std::uint64_t id);
    bool first();
    bool last();
    bool next();
    /// The current entry (valid until the transaction writes or ends).
    std::uint64_t id() const;
    std::string_view value() const;
    /// Deletes the current entry. id() and value() are void until next(), which then yields the
    /// entry after the deleted one (LMDB keeps the position).
    int del();

  private:
    bool get(MDB_cursor_op op);
    MDB_cursor* cursor_ = nullptr;
    MDB_val key_{};
    MDB_val value_{};
    int rc_ = 0;
};

/// Big-endian encoding of an id, so that LMDB's byte order of keys is numeric order.
struct IdKey {
    explicit IdKey(std::uint64_t id);
    MDB_val val();
    unsigned char bytes[8];
};
std::uint64_t decode_id(const MDB_val& v);

/// meta: little-endian u64 values by name.
std::optional<std::uint64_t> get_u64(const Txn& txn, MDB_dbi dbi, std::string_view name, int& rc);
int put_u64(const Txn& txn, MDB_dbi dbi, std::string_view name, std::uint64_t value);
int del_key(const Txn& txn, MDB_dbi dbi, std::string_view name);
/// Every u64 entry of `dbi` whose name starts with `prefix`, prefix removed.
std::vector<std::pair<std::string, std::uint64_t>> list_u64(const Txn& txn, MDB_dbi dbi, std::string_view prefix,
                                                            int& rc);

/// Codes that mean the file holds something other than what LMDB wrote.
bool is_damage(int rc);

}  // namespace vigil::pipeline::buffer

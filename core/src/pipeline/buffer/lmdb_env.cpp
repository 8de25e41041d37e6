// SPDX-License-Identifier: Apache-2.0
#include "pipeline/buffer/lmdb_env.hpp"

#include <cstring>

#include <fmt/core.h>

namespace vigil::pipeline::buffer {

std::string LmdbEnv::error(std::string_view what, int rc) const {
    return fmt::format("buffer {}: {}: {}", dir_.string(), what, mdb_strerror(rc));
}

Status LmdbEnv::open(const std::filesystem::path& dir, std::uint64_t map_size, std::string* damaged) {
    close();
    dir_ = dir;
    int rc = mdb_env_create(&env_);
    if (rc != 0) {
        env_ = nullptr;
        return Status::error(error("cannot create the store", rc));
    }
    auto fail = [&](std::string_view what, int code) {
        auto message = error(what, code);
        close();
        return Status::error(message);
    };
    if ((rc = mdb_env_set_mapsize(env_, static_cast<std::size_t>(map_size))) != 0) {
        return fail("cannot size the store", rc);
    }
    if ((rc = mdb_env_set_maxdbs(env_, 2)) != 0) {
        return fail("cannot set up the store", rc);
    }
    // No MDB_WRITEMAP: pages are written with pwrite, so a full disk is an error code from the
    // commit (retried) instead of a SIGBUS on a mapped page.
    if ((rc = mdb_env_open(env_, dir.c_str(), MDB_NOLOCK | MDB_NOTLS | MDB_NORDAHEAD, 0600)) != 0) {
        if (damaged != nullptr && is_damage(rc)) {
            *damaged = mdb_strerror(rc);
        }
        return fail("cannot open", rc);
    }
    // LMDB maps the file and trusts its meta page: pages past the end of a truncated file
    // would be a SIGBUS on first touch, so compare before reading any.
    MDB_envinfo info{};
    MDB_stat stat{};
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &stat);
    std::error_code ec;
    auto size = std::filesystem::file_size(dir / "data.mdb", ec);
    auto need = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
    if (!ec && size < need) {
        if (damaged != nullptr) {
            *damaged =
                fmt::format("data.mdb is {} bytes, shorter than the {} its last commit needs (truncated)", size, need);
        }
        close();
        return Status::error(fmt::format("buffer {}: data.mdb is truncated", dir.string()));
    }
    MDB_txn* txn = nullptr;
    if ((rc = mdb_txn_begin(env_, nullptr, 0, &txn)) != 0) {
        return fail("cannot begin a transaction", rc);
    }
    if ((rc = mdb_dbi_open(txn, "records", MDB_CREATE, &records_)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta_)) != 0) {
        mdb_txn_abort(txn);
        return fail("cannot open its databases", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        return fail("cannot commit", rc);
    }
    return Status::success();
}

void LmdbEnv::close() {
    if (env_ != nullptr) {
        mdb_env_close(env_);
        env_ = nullptr;
    }
}

std::uint64_t LmdbEnv::map_size() const {
    MDB_envinfo info{};
    if (env_ == nullptr || mdb_env_info(env_, &info) != 0) {
        return 0;
    }
    return info.me_mapsize;
}

Status LmdbEnv::grow(Txn& txn, std::uint64_t by) {
    txn.abort();
    auto size = map_size() + by;
    if (int rc = mdb_env_set_mapsize(env_, static_cast<std::size_t>(size)); rc != 0) {
        return Status::error(error("cannot grow the store", rc));
    }
    return Status::success();
}

Txn::Txn(const LmdbEnv& env, bool read_only) {
    rc_ = mdb_txn_begin(env.env(), nullptr, read_only ? MDB_RDONLY : 0, &txn_);
    if (rc_ != 0) {
        txn_ = nullptr;
    }
}

Txn::~Txn() {
    if (txn_ != nullptr) {
        mdb_txn_abort(txn_);
    }
}

void Txn::abort() {
    if (txn_ != nullptr) {
        mdb_txn_abort(txn_);
        txn_ = nullptr;
    }
}

int Txn::commit() {
    if (txn_ == nullptr) {
        return rc_ != 0 ? rc_ : EINVAL;
    }
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;  // finished (committed, or aborted by LMDB on failure)
    return rc;
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) {
    rc_ = mdb_cursor_open(txn.get(), dbi, &cursor_);
    if (rc_ != 0) {
        cursor_ = nullptr;
    }
}

Cursor::~Cursor() {
    if (cursor_ != nullptr) {
        mdb_cursor_close(cursor_);
    }
}

bool Cursor::get(MDB_cursor_op op) {
    if (cursor_ == nullptr) {
        return false;
    }
    rc_ = mdb_cursor_get(cursor_, &key_, &value_, op);
    if (rc_ == MDB_NOTFOUND) {
        rc_ = 0;
        return false;
    }
    return rc_ == 0;
}

bool Cursor::seek(std::uint64_t id) {
    IdKey k(id);
    key_ = k.val();
    return get(MDB_SET_RANGE);
}

bool Cursor::first() { return get(MDB_FIRST); }
bool Cursor::last() { return get(MDB_LAST); }
bool Cursor::next() { return get(MDB_NEXT); }

std::uint64_t Cursor::id() const { return decode_id(key_); }

std::string_view Cursor::value() const { return {static_cast<const char*>(value_.mv_data), value_.mv_size}; }

int Cursor::del() {
    rc_ = mdb_cursor_del(cursor_, 0);
    key_ = {};
    value_ = {};
    return rc_;
}

IdKey::IdKey(std::uint64_t id) {
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<unsigned char>(id >> (56 - 8 * i));
    }
}

MDB_val IdKey::val() { return MDB_val{sizeof bytes, bytes}; }

std::uint64_t decode_id(const MDB_val& v) {
    if (v.mv_size != 8) {
        return 0;
    }
    const auto* b = static_cast<const unsigned char*>(v.mv_data);
    std::uint64_t id = 0;
    for (int i = 0; i < 8; ++i) {
        id = (id << 8) | b[i];
    }
    return id;
}

std::optional<std::uint64_t> get_u64(const Txn& txn, MDB_dbi dbi, std::string_view name, int& rc) {
    MDB_val k{name.size(), const_cast<char*>(name.data())};
    MDB_val v{};
    rc = mdb_get(txn.get(), dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        return std::nullopt;
    }
    if (rc != 0 || v.mv_size != 8) {
        return std::nullopt;
    }
    std::uint64_t out = 0;
    std::memcpy(&out, v.mv_data, 8);  // written by put_u64 on this machine: host order
    return out;
}

int put_u64(const Txn& txn, MDB_dbi dbi, std::string_view name, std::uint64_t value) {
    MDB_val k{name.size(), const_cast<char*>(name.data())};
    MDB_val v{8, &value};
    return mdb_put(txn.get(), dbi, &k, &v, 0);
}

int del_key(const Txn& txn, MDB_dbi dbi, std::string_view name) {
    MDB_val k{name.size(), const_cast<char*>(name.data())};
    int rc = mdb_del(txn.get(), dbi, &k, nullptr);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

}  // namespace vigil::pipeline::buffer

namespace vigil::pipeline::buffer {

std::vector<std::pair<std::string, std::uint64_t>> list_u64(const Txn& txn, MDB_dbi dbi, std::string_view prefix,
                                                            int& rc) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    MDB_cursor* c = nullptr;
    if ((rc = mdb_cursor_open(txn.get(), dbi, &c)) != 0) {
        return out;
    }
    MDB_val k{prefix.size(), const_cast<char*>(prefix.data())};
    MDB_val v{};
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        std::string_view name(static_cast<const char*>(k.mv_data), k.mv_size);
        if (name.substr(0, prefix.size()) != prefix) {
            break;
        }
        if (v.mv_size == 8) {
            std::uint64_t value = 0;
            std::memcpy(&value, v.mv_data, 8);
            out.emplace_back(std::string(name.substr(prefix.size())), value);
        }
    }
    if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    mdb_cursor_close(c);
    return out;
}

bool is_damage(int rc) {
    return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH;
}

}  // namespace vigil::pipeline::buffer

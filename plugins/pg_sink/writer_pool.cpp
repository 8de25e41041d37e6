// SPDX-License-Identifier: Apache-2.0
#include "writer_pool.hpp"
#include "vigil/sync.hpp"

#include <stdexcept>

namespace vigil::plugins::pg_sink {

WriterPool::WriterPool(std::size_t helpers) {
    errors_.resize(helpers + 1);  // one slot per task index, the caller's included
    threads_.reserve(helpers);
    for (std::size_t i = 1; i <= helpers; ++i) {
        threads_.emplace_back([this, i] { helper(i); });
    }
}

WriterPool::~WriterPool() { stop_and_join(mutex_, &stopping_, wake_, threads_); }

void WriterPool::helper(std::size_t index) {
    std::uint64_t seen = 0;
    for (;;) {
        const std::function<void(std::size_t)>* task = nullptr;
        {
            Lock lock(mutex_);
            wake_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return stopping_ || round_ != seen; });
            if (stopping_) {
                return;
            }
            seen = round_;
            task = index < n_ ? task_ : nullptr;
        }
        if (task != nullptr) {
            try {
                (*task)(index);
            } catch (...) {
                errors_[index] = std::current_exception();
            }
        }
        {
            Lock lock(mutex_);
            ++done_;
        }
        finished_.notify_one();
    }
}

void WriterPool::run(std::size_t n, const std::function<void(std::size_t)>& task) {
    if (n > threads_.size() + 1) {
        throw std::invalid_argument("WriterPool::run: more tasks than threads");
    }
    for (auto& e : errors_) {
        e = nullptr;
    }
    if (n > 1) {
        {
            Lock lock(mutex_);
            task_ = &task;
            n_ = n;
            done_ = 0;
            ++round_;
        }
        wake_.notify_all();
    }
    try {
        task(0);
    } catch (...) {
        errors_[0] = std::current_exception();
    }
    if (n > 1) {
        Lock lock(mutex_);
        finished_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return done_ == threads_.size(); });
        task_ = nullptr;
    }
    for (auto& e : errors_) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

}  // namespace vigil::plugins::pg_sink

// SPDX-License-Identifier: Apache-2.0
#include "capture.hpp"

namespace vigil::test {

bool Capture::emit(Batch b, AckFn ack) {
    std::lock_guard lock(mutex_);
    for (auto& r : b.records) {
        records_.push_back(std::move(r.check));
    }
    ack(AckStatus::Delivered);
    return true;
}

std::vector<CheckRecord> Capture::all() const {
    std::lock_guard lock(mutex_);
    return records_;
}

std::map<std::string, CheckRecord> by_name(const std::vector<CheckRecord>& records) {
    std::map<std::string, CheckRecord> m;
    for (const auto& r : records) {
        m[r.name] = r;
    }
    return m;
}

std::map<std::string, CheckRecord> Capture::by_name() const {
    std::lock_guard lock(mutex_);
    return vigil::test::by_name(records_);
}

}  // namespace vigil::test

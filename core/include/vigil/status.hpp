// SPDX-License-Identifier: Apache-2.0
// Status: the result type of runtime calls across the plugin boundary. No exception crosses it.
#pragma once

#include <string>
#include <utility>

#include "vigil/visibility.hpp"

namespace vigil {

/// The outcome of a runtime call. `ok()` means success; otherwise `message()` is one line that
/// already names what failed (site, topic/partition/offset, table...). Cheap to copy.
class VIGIL_API Status {
  public:
    Status() = default;
    static Status success() { return Status(); }
    static Status error(std::string message) { return Status(std::move(message)); }

    bool ok() const noexcept { return !failed_; }
    const std::string& message() const noexcept { return message_; }

  private:
    explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
    bool failed_ = false;
    std::string message_;
};

}  // namespace vigil

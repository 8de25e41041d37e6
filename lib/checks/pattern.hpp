// SPDX-License-Identifier: Apache-2.0
// A compiled RE2 pattern, shared (sites reuse a handful of patterns), that compares by its
// pattern text: a struct holding one can default its comparison, so a field added to Site is
// compared on reload without anyone remembering to.
#pragma once

#include <re2/re2.h>

#include <cstddef>
#include <memory>
#include <utility>

namespace vigil::checks {

class Pattern {
  public:
    Pattern() = default;
    Pattern(std::shared_ptr<const re2::RE2> re) : re_(std::move(re)) {}  // NOLINT(google-explicit-constructor)

    const re2::RE2* get() const { return re_.get(); }
    const re2::RE2& operator*() const { return *re_; }
    const re2::RE2* operator->() const { return re_.get(); }
    explicit operator bool() const { return re_ != nullptr; }

    friend bool operator==(const Pattern& a, const Pattern& b) {
        if (!a.re_ || !b.re_) {
            return !a.re_ && !b.re_;
        }
        return a.re_ == b.re_ || a.re_->pattern() == b.re_->pattern();
    }
    friend bool operator==(const Pattern& a, std::nullptr_t) { return !a.re_; }

  private:
    std::shared_ptr<const re2::RE2> re_;
};

}  // namespace vigil::checks

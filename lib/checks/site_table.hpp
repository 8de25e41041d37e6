// SPDX-License-Identifier: Apache-2.0
// The sites a check loop runs and their schedule: a reload brings the set in line with the new
// list, keeping the schedule of every site that did not change (and of one whose interval did
// not), so a SIGHUP never makes checks bunch up or skip.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "schedule.hpp"
#include "shard.hpp"

namespace vigil::checks {

/// `Site` needs `name`, `interval` and an `operator==` over every option. Not thread-safe: the
/// loop's thread owns it.
template <class Site>
class SiteTable {
  public:
    using Id = Scheduler::SiteId;

    /// Brings the running set in line with `sites` at `now`; `forgotten` hears each site removed.
    void apply(const std::vector<std::shared_ptr<const Site>>& sites, Time now,
               const std::function<void(const std::string&)>& forgotten = {}) {
        std::unordered_map<std::string, const Site*> wanted;
        for (const auto& s : sites) {
            wanted.emplace(s->name, s.get());
        }
        for (auto it = by_name_.begin(); it != by_name_.end();) {
            if (wanted.count(it->first) == 0) {
                if (forgotten) {
                    forgotten(it->first);
                }
                sched_.remove(it->second);
                sites_.erase(it->second);
                it = by_name_.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& s : sites) {
            auto found = by_name_.find(s->name);
            if (found != by_name_.end()) {
                auto& current = sites_.at(found->second);
                if (*current == *s) {
                    continue;
                }
                if (current->interval == s->interval) {
                    current = s;  // same grid: the next slot stays where it was
                    continue;
                }
                sched_.remove(found->second);
                sites_.erase(found->second);
                by_name_.erase(found);
            }
            auto id = sched_.add(s->interval, stable_hash(s->name), now);
            sites_[id] = s;
            by_name_[s->name] = id;
        }
    }

    /// The site behind a slot; nullptr once it was removed.
    std::shared_ptr<const Site> find(Id id) const {
        auto it = sites_.find(id);
        return it == sites_.end() ? nullptr : it->second;
    }
    /// Every site, in no particular order (for --once).
    std::vector<std::shared_ptr<const Site>> all() const {
        std::vector<std::shared_ptr<const Site>> out;
        out.reserve(sites_.size());
        for (const auto& [id, s] : sites_) {
            out.push_back(s);
        }
        return out;
    }
    /// Every slot's id, in no particular order (for --once).
    std::vector<Id> ids() const {
        std::vector<Id> out;
        out.reserve(sites_.size());
        for (const auto& [id, s] : sites_) {
            out.push_back(id);
        }
        return out;
    }
    std::size_t size() const { return sites_.size(); }
    Scheduler& scheduler() { return sched_; }
    const Scheduler& scheduler() const { return sched_; }

  private:
    Scheduler sched_;
    std::unordered_map<Id, std::shared_ptr<const Site>> sites_;
    std::unordered_map<std::string, Id> by_name_;
};

}  // namespace vigil::checks

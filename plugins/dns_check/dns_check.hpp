// SPDX-License-Identifier: Apache-2.0
// The dns_check source: one prober thread (prober.hpp) checks every site; one more thread (the
// shared outbox) hands finished batches to the pipeline, so backpressure never stalls the timing
// of checks in flight.
#pragma once

#include <string>

#include "prober.hpp"
#include "dns_check_config.hpp"
#include "vigil/log.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::dns_check {

class DnsCheck final : public Source {
  public:
    DnsCheck(Config config, std::string instance, std::string agent, Logger log);

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override;
    bool supports_once() const override { return true; }
    bool supports_reload() const override { return true; }
    /// Validates the new options and hands them to the prober: new sites start, removed ones stop,
    /// unchanged ones keep their schedule.
    bool reload(const ConfigNode& config, Diagnostics& diags) override;

  private:
    std::string instance_;
    std::string agent_;
    Logger log_;
    Mutex mutex_;
    Config config_ VIGIL_GUARDED_BY(mutex_);
    Prober* prober_ VIGIL_GUARDED_BY(mutex_) = nullptr;  // during run()
};

}  // namespace vigil::plugins::dns_check

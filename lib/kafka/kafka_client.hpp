// SPDX-License-Identifier: Apache-2.0
// librdkafka clients built from Properties, with their errors and log lines routed to the
// plugin instance's logger, and an outage logged once when it starts and once when it ends.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "kafka_options.hpp"
#include "vigil/log.hpp"
#include "vigil/status.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka {

/// Receives a client's error and log callbacks. librdkafka serves them from rd_kafka_poll() or
/// rd_kafka_consumer_poll(), on the polling thread; the mutex covers readers on other threads.
class ClientEvents {
  public:
    /// `quiet`: record errors without logging them (a healthcheck reports them itself).
    ClientEvents(Logger log, std::string brokers, bool quiet = false);

    void on_error(rd_kafka_resp_err_t err, const std::string& reason);
    /// Something reached a broker (a delivery, a fetch): ends an outage, logging it once.
    void on_progress(std::uint64_t waited_records = 0);

    /// The last connectivity error seen since construction or clear(), as one line.
    std::string last_error() const;
    rd_kafka_resp_err_t last_code() const;
    /// True once an authentication or TLS error was seen: these do not heal by waiting.
    bool credentials_refused() const;
    bool in_outage() const;
    void clear();

    const Logger& log() const { return log_; }
    const std::string& brokers() const { return brokers_; }

    /// The owner of the client (the sink or source), for its own callbacks.
    void* owner = nullptr;

  private:
    Logger log_;
    std::string brokers_;
    mutable Mutex mutex_;
    std::string last_error_ VIGIL_GUARDED_BY(mutex_);
    rd_kafka_resp_err_t last_code_ VIGIL_GUARDED_BY(mutex_) = RD_KAFKA_RESP_ERR_NO_ERROR;
    bool refused_ VIGIL_GUARDED_BY(mutex_) = false;
    std::atomic<bool> outage_{false};  // read without the lock on every delivered/fetched message
    std::chrono::steady_clock::time_point outage_since_{};
    std::uint64_t outage_errors_ = 0;
    Complaint complaint_;
    bool quiet_ = false;
};

struct ClientDeleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Client = std::unique_ptr<rd_kafka_t, ClientDeleter>;

/// Creates a client from `props`, routing callbacks to `events` (which must outlive it).
/// `customize` may add callbacks (delivery reports, rebalance). Returns nullptr with `error` set.
Client make_client(rd_kafka_type_t type, const Properties& props, ClientEvents& events,
                   const std::function<void(rd_kafka_conf_t*)>& customize, std::string& error);

/// The ClientEvents of a client made by make_client.
ClientEvents& events_of(rd_kafka_t* rk);

/// Connects and asks for `topic`'s metadata within `timeout`: the healthcheck of both plugins.
/// An authentication or TLS failure is reported as soon as librdkafka sees it.
Status probe(const Properties& props, const std::string& topic, const Logger& log,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace vigil::plugins::kafka

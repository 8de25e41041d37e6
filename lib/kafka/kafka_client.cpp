// SPDX-License-Identifier: Apache-2.0
#include "kafka_client.hpp"

#include <thread>

#include <fmt/core.h>

#include "kafka_errors.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka {

using Clock = std::chrono::steady_clock;

ClientEvents::ClientEvents(Logger log, std::string brokers, bool quiet)
    : log_(std::move(log)), brokers_(std::move(brokers)), complaint_(std::chrono::seconds(30)), quiet_(quiet) {}

void ClientEvents::on_error(rd_kafka_resp_err_t err, const std::string& raw_reason) {
    Lock lock(mutex_);
    bool connectivity = is_connectivity_error(err);
    // A TLS alert from the broker ("sslv3 alert bad certificate", "tlsv13 alert certificate
    // required") is its refusal of our handshake: configuration, not an outage.
    bool alert =
        raw_reason.find("SSL routines") != std::string::npos && raw_reason.find(" alert ") != std::string::npos;
    std::string reason = raw_reason;
    if (alert && raw_reason.find("certificate") != std::string::npos) {
        reason += " (the broker refused our client certificate, or wanted one: see security.cert_file and key_file)";
    }
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
        err == RD_KAFKA_RESP_ERR__SSL || alert || reason.find("SSL handshake failed") != std::string::npos ||
        reason.find("certificate verify failed") != std::string::npos) {
        refused_ = true;
    }
    if (connectivity) {
        last_error_ = reason;
        last_code_ = err;
    }
    if (quiet_) {
        return;
    }
    if (connectivity && !outage_) {
        outage_ = true;
        outage_since_ = Clock::now();
        outage_errors_ = 0;
        complaint_.release();
        complaint_.complain();
        log_.warn("cannot reach Kafka brokers {}: {}; records wait and are retried", brokers_, reason);
        return;
    }
    if (connectivity) {
        ++outage_errors_;
    }
    if (complaint_.complain()) {
        auto suppressed = complaint_.suppressed();
        if (connectivity) {
            log_.warn("still cannot reach Kafka brokers {} after {}s: {} ({} more errors)", brokers_,
                      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - outage_since_).count(), reason,
                      suppressed);
        } else {
            log_.warn("Kafka: {} ({}){}", reason, rd_kafka_err2name(err),
                      suppressed > 0 ? fmt::format(" ({} similar suppressed)", suppressed) : std::string());
        }
    }
}

void ClientEvents::on_progress(std::uint64_t waited_records) {
    if (!outage_.load(std::memory_order_relaxed)) {
        return;  // the common case, once per message: no lock
    }
    Lock lock(mutex_);
    if (!outage_) {
        return;
    }
    outage_ = false;
    refused_ = false;
    complaint_.release();
    auto secs = std::chrono::duration<double>(Clock::now() - outage_since_).count();
    log_.info("Kafka brokers {} reachable again after {:.1f}s ({} errors meanwhile{})", brokers_, secs,
              outage_errors_ + 1,
              waited_records > 0 ? fmt::format(", {} records waited", waited_records) : std::string());
}

std::string ClientEvents::last_error() const {
    Lock lock(mutex_);
    return last_error_;
}

rd_kafka_resp_err_t ClientEvents::last_code() const {
    Lock lock(mutex_);
    return last_code_;
}

bool ClientEvents::credentials_refused() const {
    Lock lock(mutex_);
    return refused_;
}

bool ClientEvents::in_outage() const {
    Lock lock(mutex_);
    return outage_;
}

void ClientEvents::clear() {
    Lock lock(mutex_);
    last_error_.clear();
    last_code_ = RD_KAFKA_RESP_ERR_NO_ERROR;
    refused_ = false;
}

ClientEvents& events_of(rd_kafka_t* rk) { return *static_cast<ClientEvents*>(rd_kafka_opaque(rk)); }

Client make_client(rd_kafka_type_t type, const Properties& props, ClientEvents& events,
                   const std::function<void(rd_kafka_conf_t*)>& customize, std::string& error) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512] = "";
    for (const auto& [key, value] : props) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            error = fmt::format("librdkafka refused {}: {}", key, err);
            rd_kafka_conf_destroy(conf);
            return nullptr;
        }
    }
    rd_kafka_conf_set_opaque(conf, &events);
    rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t* rk, int code, const char* reason, void*) {
        events_of(rk).on_error(static_cast<rd_kafka_resp_err_t>(code), reason);
    });
    // librdkafka's own lines repeat what error_cb reports; keep them for --log-level debug.
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* line) {
        auto& events = events_of(const_cast<rd_kafka_t*>(rk));
        if (events.log().enabled(LogLevel::Debug)) {
            events.log().debug("librdkafka [{}] {}: {}", level, facility, line);
        }
    });
    if (customize) {
        customize(conf);
    }
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        error = fmt::format("cannot create the Kafka client: {}", err);
        return nullptr;
    }
    return Client(rk);
}

Status probe(const Properties& props, const std::string& topic, const Logger& log, std::chrono::milliseconds timeout) {
    ClientEvents events(log, property(props, "bootstrap.servers"), true);
    std::string error;
    auto rk = make_client(RD_KAFKA_PRODUCER, props, events, nullptr, error);
    if (!rk) {
        return Status::error(error);
    }
    auto brokers = events.brokers();
    auto deadline = Clock::now() + timeout;
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    std::string outcome;
    while (Clock::now() < deadline) {
        const struct rd_kafka_metadata* md = nullptr;
        auto err = rd_kafka_metadata(rk.get(), 0, t, &md, 1000);
        rd_kafka_poll(rk.get(), 0);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            auto terr = md->topic_cnt > 0 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            rd_kafka_metadata_destroy(md);
            if (terr == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
                continue;  // being created (auto-create): ask again
            }
            if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                outcome = fmt::format(
                    "topic {} does not exist on Kafka brokers {} (a producer creates it on first "
                    "use only if the brokers allow auto-creation)",
                    topic, brokers);
            } else if (terr != RD_KAFKA_RESP_ERR_NO_ERROR) {
                outcome = fmt::format("Kafka brokers {} answered, but topic {}: {}", brokers, topic, describe(terr));
            }
            rd_kafka_topic_destroy(t);
            return outcome.empty() ? Status::success() : Status::error(outcome);
        }
        if (events.credentials_refused()) {
            break;
        }
    }
    rd_kafka_topic_destroy(t);
    auto last = events.last_error();
    if (last.empty()) {
        return Status::error(fmt::format("cannot reach Kafka brokers {}: no answer within {}s", brokers,
                                         std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    }
    return Status::error(fmt::format("cannot reach Kafka brokers {}: {}", brokers, last));
}

}  // namespace vigil::plugins::kafka

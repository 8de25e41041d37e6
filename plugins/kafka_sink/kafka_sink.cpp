// SPDX-License-Identifier: Apache-2.0
#include "kafka_sink.hpp"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

#include "kafka_errors.hpp"
#include "vigil/record_fields.hpp"
#include "vigil/redact.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka_sink {

namespace {
constexpr int kPollMs = 100;
constexpr auto kStopFlush = std::chrono::seconds(10);

// The per-message opaque: the batch generation and the record's index, so a report finds its
// slot without a lookup and a report from an abandoned batch is recognised and ignored.
void* pack(std::uint32_t generation, std::size_t index) {
    return reinterpret_cast<void*>((static_cast<std::uintptr_t>(generation) << 32) | static_cast<std::uint32_t>(index));
}
std::pair<std::uint32_t, std::size_t> unpack(void* opaque) {
    auto v = reinterpret_cast<std::uintptr_t>(opaque);
    return {static_cast<std::uint32_t>(v >> 32), static_cast<std::size_t>(v & 0xffffffffu)};
}
}  // namespace

KafkaSink::KafkaSink(Config config, std::string instance, Logger log)
    : config_(std::move(config)), instance_(std::move(instance)), log_(log), events_(log, config_.brokers),
      resend_complaint_(std::chrono::seconds(30)), fatal_complaint_(std::chrono::seconds(60)),
      outage_complaint_(std::chrono::seconds(60)),
      delivered_(counter("vigil_kafka_sink_delivered_total", {{"instance", instance_}},
                         "Records the brokers confirmed (acks=all)")),
      rejected_(counter("vigil_kafka_sink_rejected_total", {{"instance", instance_}},
                        "Records refused for good and dead-lettered")),
      resent_(counter("vigil_kafka_sink_resent_total", {{"instance", instance_}},
                      "Records sent again after a failed delivery")) {
    events_.owner = this;
    if (config_.schema_registry) {
        registry_ = std::make_unique<registry::Client>(*config_.schema_registry);
        const auto& o = *config_.schema_registry;
        schemas_.push_back({o.subject, record_json_schema()});
        if (o.kind_subjects) {
            // Confluent's TopicRecordNameStrategy: <topic>-<record name>, the schema's title.
            for (const auto& [kind, bit] : kRecordKinds) {
                schemas_.push_back({fmt::format("{}-vigil.check.{}", config_.topic, kind), *record_json_schema(kind)});
            }
        }
    }
}

KafkaSink::~KafkaSink() { stop(); }

std::string_view KafkaSink::key_of(const CheckRecord& r, KeyField field) {
    switch (field) {
        case KeyField::Name: return r.name;
        case KeyField::Url: return r.url;
        case KeyField::CheckId: return r.check_id;
        case KeyField::Agent: return r.agent;
        case KeyField::None: return {};
    }
    return {};
}

Counter& KafkaSink::error_counter(rd_kafka_resp_err_t err) {
    auto it = errors_.find(err);
    if (it == errors_.end()) {
        it = errors_
                 .emplace(err, &counter("vigil_kafka_sink_delivery_errors_total",
                                        {{"instance", instance_}, {"error", rd_kafka_err2name(err)}},
                                        "Failed delivery reports by librdkafka error"))
                 .first;
    }
    return *it->second;
}

Status KafkaSink::connect() {
    std::string error;
    producer_ = kafka::make_client(
        RD_KAFKA_PRODUCER, config_.props, events_,
        [](rd_kafka_conf_t* conf) {
            rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void*) {
                static_cast<KafkaSink*>(kafka::events_of(rk).owner)->on_delivery(*m);
            });
        },
        error);
    return producer_ ? Status::success() : Status::error(error);
}

Status KafkaSink::preflight() {
    if (!registry_) {
        return Status::success();
    }
    auto st = ensure_schema();
    if (st.ok() || registered()) {
        return Status::success();
    }
    const auto& o = registry_->options();
    if (refused_) {
        return Status::error(
            fmt::format("{}:{}:{}: error: {}: {}", o.where.file, o.where.line, o.where.column, o.path, st.message()));
    }
    // Not reachable now: the first write tries again (and waits for it), as for Kafka itself.
    log_.warn("{}; registering again before the first write", st.message());
    return Status::success();
}

bool KafkaSink::registered() const {
    return std::all_of(schemas_.begin(), schemas_.end(), [](const Schema& s) { return s.id > 0; });
}

const KafkaSink::Schema& KafkaSink::schema_of(const CheckRecord& r) const {
    if (schemas_.size() > 1 && r.kind) {
        if (auto i = record_kind_index(*r.kind)) {
            return schemas_[*i + 1];
        }
    }
    return schemas_.front();
}

Status KafkaSink::ensure_schema() {
    if (!registry_) {
        return Status::success();
    }
    std::vector<std::string> registered;
    for (auto& schema : schemas_) {
        if (schema.id > 0) {
            continue;
        }
        auto r = registry_->register_schema(schema.subject, schema.text);
        if (r.id <= 0) {
            refused_ = r.refused;  // the ones registered so far keep their ids; the next call goes on
            return Status::error(
                r.refused ? fmt::format("subject {} refused the record's schema: {}", schema.subject, r.error)
                          : fmt::format("schema registry for subject {}: {}", schema.subject, r.error));
        }
        schema.id = r.id;
        schema.id_text = std::to_string(r.id);
        registered.push_back(fmt::format("{} (id {})", schema.subject, r.id));
    }
    refused_ = false;
    if (!registered.empty()) {
        log_.info("the record's schema{} registered under {} of {}", registered.size() > 1 ? "s are" : " is",
                  fmt::join(registered, ", "), redact_url(registry_->options().url));
    }
    return Status::success();
}

Status KafkaSink::start() {
    if (auto st = ensure_schema(); !st.ok()) {
        return st;
    }
    return connect();
}

void KafkaSink::begin(const Batch& batch) {
    cur_.sequence = batch.sequence;
    cur_.generation = next_generation_++;
    cur_.slots.assign(batch.records.size(), Slot::ToSend);
    cur_.rejected.clear();
    cur_.remaining = batch.records.size();
}

void KafkaSink::produce_pending(const Batch& batch) {
    std::string payload;
    for (std::size_t i = 0; i < cur_.slots.size(); ++i) {
        if (cur_.slots[i] != Slot::ToSend) {
            continue;
        }
        const auto& rec = batch.records[i].check;
        payload.clear();
        // The schema describes check records: an event (the alerts pipeline) goes untagged.
        const auto& event = batch.records[i].event;
        bool tagged = registry_ && !event;
        const Schema* schema = tagged ? &schema_of(rec) : nullptr;
        if (tagged && registry_->options().wire_format == registry::WireFormat::Confluent) {
            registry::frame(static_cast<std::uint32_t>(schema->id), {}, payload);
        }
        if (event) {
            payload = encode_event_json(*event);
        } else {
            encode_json(rec, payload);
        }
        auto key = key_of(rec, config_.key_field);
        rd_kafka_headers_t* headers = nullptr;
        if (tagged && registry_->options().wire_format == registry::WireFormat::Header) {
            headers = rd_kafka_headers_new(1);
            rd_kafka_header_add(headers, registry::kSchemaIdHeader, -1, schema->id_text.data(),
                                static_cast<ssize_t>(schema->id_text.size()));
        }
        auto err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(config_.topic.c_str()),
                                     RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
                                     RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                                     RD_KAFKA_V_OPAQUE(pack(cur_.generation, i)), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
            rd_kafka_headers_destroy(headers);  // librdkafka owns them only once the message is queued
        }
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            cur_.slots[i] = Slot::InFlight;
            continue;
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            return;  // the caller polls, which frees room as reports arrive
        }
        error_counter(err).inc();
        auto fate = kafka::classify(err);
        if (fate == kafka::Fate::Outage) {
            note_outage(err, {});
            return;
        }
        if (fate == kafka::Fate::Reject) {
            cur_.slots[i] = Slot::Rejected;
            --cur_.remaining;
            rejected_.inc();
            cur_.rejected.push_back(
                {i, fmt::format("topic {} on {}: {}", config_.topic, config_.brokers, kafka::describe(err)), false});
            continue;
        }
        if (resend_complaint_.complain()) {
            log_.warn("cannot queue records for topic {}: {}; trying again", config_.topic, kafka::describe(err));
        }
        return;
    }
}

void KafkaSink::on_delivery(const rd_kafka_message_t& m) {
    auto [generation, index] = unpack(m._private);
    if (generation != cur_.generation || index >= cur_.slots.size() || cur_.slots[index] != Slot::InFlight) {
        return;  // a report for a batch given up on (interrupted); its retry starts afresh
    }
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        cur_.slots[index] = Slot::Delivered;
        --cur_.remaining;
        delivered_.inc();
        events_.on_progress(cur_.remaining);
        return;
    }
    if (stopping_) {
        return;  // purged on stop: counted in stop()'s line
    }
    error_counter(m.err).inc();
    auto fate = kafka::classify(m.err);
    if (fate == kafka::Fate::Outage) {
        cur_.slots[index] = Slot::ToSend;
        auto broker = rd_kafka_message_broker_id(&m);
        note_outage(m.err, broker >= 0 ? fmt::format(" (broker {})", broker) : std::string());
        return;
    }
    if (fate == kafka::Fate::Reject) {
        cur_.slots[index] = Slot::Rejected;
        --cur_.remaining;
        rejected_.inc();
        auto broker = rd_kafka_message_broker_id(&m);
        cur_.rejected.push_back(
            {index,
             fmt::format("topic {} partition {} on {}{}: {}", config_.topic, m.partition, config_.brokers,
                         broker >= 0 ? fmt::format(" (broker {})", broker) : std::string(), kafka::describe(m.err)),
             false});
        return;
    }
    cur_.slots[index] = Slot::ToSend;
    resent_.inc();
    ++resent_since_log_;
    if (resend_complaint_.complain()) {
        log_.warn("delivery to topic {} failed: {}; sending again ({} records so far)", config_.topic,
                  kafka::describe(m.err), resent_since_log_);
    }
}

void KafkaSink::recreate_after_fatal() {
    char reason[512] = "";
    auto err = rd_kafka_fatal_error(producer_.get(), reason, sizeof reason);
    if (fatal_complaint_.complain()) {
        auto unlogged = fatal_complaint_.suppressed();
        log_.error(
            "the idempotent producer hit a fatal error: {} ({}); creating a new producer and sending the "
            "unconfirmed records again{}",
            reason, rd_kafka_err2name(err),
            unlogged > 0 ? fmt::format(" ({} more since the last report)", unlogged) : "");
    }
    drop_producer();
}

void KafkaSink::drop_producer() {
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    producer_.reset();
    for (auto& s : cur_.slots) {
        if (s == Slot::InFlight) {
            s = Slot::ToSend;
        }
    }
    cur_.generation = next_generation_++;
}

void KafkaSink::note_outage(rd_kafka_resp_err_t err, std::string detail) {
    if (cur_.outage == RD_KAFKA_RESP_ERR_NO_ERROR) {
        cur_.outage = err;
        cur_.outage_detail = std::move(detail);
    }
}

WriteResult KafkaSink::outage_result() {
    auto err = cur_.outage;
    const char* hint = "";
    switch (err) {
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: hint = "; grant the user WRITE on the topic"; break;
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
            hint = "; grant the user IDEMPOTENT_WRITE on the cluster";
            break;
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            hint = "; create the topic, or let the brokers create topics on first use";
            break;
        default: break;
    }
    auto reason =
        fmt::format("topic {} on {}{}: {}", config_.topic, config_.brokers, cur_.outage_detail, kafka::describe(err));
    if (outage_complaint_.complain()) {
        auto unlogged = outage_complaint_.suppressed();
        log_.error(
            "{}: the topic refuses every record, so none is dead-lettered: they wait and are sent again "
            "until this is fixed{}{}",
            reason, hint, unlogged > 0 ? fmt::format(" ({} more refusals since the last report)", unlogged) : "");
    }
    {
        Lock lock(health_mutex_);
        outage_ = reason;
    }
    cur_.outage = RD_KAFKA_RESP_ERR_NO_ERROR;
    cur_.outage_detail.clear();
    // librdkafka keeps a refused topic's state until its next metadata refresh (minutes): the
    // next attempt starts with a new producer, so a topic created or a right granted meanwhile
    // is seen at once. What was delivered stays delivered; the rest is sent again.
    drop_producer();
    return WriteResult::retry(reason);
}

Status KafkaSink::health() const {
    {
        Lock lock(health_mutex_);
        if (!outage_.empty()) {
            return Status::error(outage_);
        }
    }
    if (events_.in_outage()) {
        auto last = events_.last_error();
        return Status::error(
            fmt::format("cannot reach Kafka brokers {}{}", config_.brokers, last.empty() ? "" : ": " + last));
    }
    return Status::success();
}

WriteResult KafkaSink::write(const Batch& batch) {
    if (!producer_) {
        if (auto st = connect(); !st.ok()) {
            return WriteResult::retry(st.message());
        }
    }
    if (cur_.generation == 0 || cur_.sequence != batch.sequence || cur_.slots.size() != batch.records.size()) {
        begin(batch);
    }
    while (true) {
        if (rd_kafka_fatal_error(producer_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            recreate_after_fatal();
            if (auto st = connect(); !st.ok()) {
                return WriteResult::retry(st.message());
            }
        }
        produce_pending(batch);
        if (cur_.outage != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return outage_result();
        }
        if (cur_.remaining == 0) {
            break;
        }
        rd_kafka_poll(producer_.get(), kPollMs);
        if (cur_.outage != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return outage_result();
        }
        if (cur_.remaining == 0) {
            break;
        }
        if (interrupted_) {
            auto last = events_.last_error();
            return WriteResult::retry(fmt::format("gave up waiting for {} delivery reports from {}{}", cur_.remaining,
                                                  config_.brokers, last.empty() ? "" : ": " + last));
        }
    }
    auto rejected = std::move(cur_.rejected);
    cur_ = Current{};
    bool healed = false;
    {
        Lock lock(health_mutex_);
        healed = !outage_.empty();
        outage_.clear();
    }
    if (healed) {
        outage_complaint_.release();
        log_.info("topic {} accepts records again", config_.topic);
    }
    return WriteResult::accepted_except(std::move(rejected));
}

void KafkaSink::interrupt() { interrupted_ = true; }

void KafkaSink::stop() {
    if (!producer_) {
        return;
    }
    // write() returns only once its batch is confirmed, so anything left belongs to a batch the
    // pipeline gave up on: it stays unacknowledged and its source keeps it.
    // After an interrupt the drain deadline has passed already: do not add a wait to it.
    stopping_ = true;
    rd_kafka_flush(producer_.get(), interrupted_ ? 0 : static_cast<int>(std::chrono::milliseconds(kStopFlush).count()));
    auto left = rd_kafka_outq_len(producer_.get());
    if (left > 0) {
        log_.warn("{} records not confirmed by {} when stopping; their batches were not acknowledged", left,
                  config_.brokers);
        rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(producer_.get(), 0);
    }
    producer_.reset();
}

Status KafkaSink::healthcheck() { return kafka::probe(config_.props, config_.topic, log_); }

}  // namespace vigil::plugins::kafka_sink

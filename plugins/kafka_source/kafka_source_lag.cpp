// SPDX-License-Identifier: Apache-2.0
// kafka_source's consumer lag per partition, reported from a thread of its own (so it is
// reported while backpressure holds the source), for the partitions this member holds.
#include <algorithm>
#include <mutex>

#include "kafka_source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka_source {

Labels KafkaSource::lag_labels(const TopicPartition& tp) const {
    return {{"instance", instance_}, {"topic", tp.topic}, {"partition", std::to_string(tp.partition)}};
}

Gauge& KafkaSource::lag_gauge(const TopicPartition& tp) {
    auto it = lag_.find(tp);
    if (it == lag_.end()) {
        it = lag_.emplace(
                     tp, &gauge(kLagGauge, lag_labels(tp), "Messages in the partition after the last acknowledged one"))
                 .first;
    }
    return *it->second;
}

void KafkaSource::report_lag() {
    Lock lock(commit_mutex_);  // the consumer may be replaced meanwhile
    if (!consumer_) {
        return;
    }
    for (const auto& tp : tracker_.assigned()) {
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(consumer_.get(), tp.topic.c_str(), tp.partition, &lo, &hi) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0) {
            continue;
        }
        auto pos = tracker_.position(tp).value_or(lo);
        lag_gauge(tp).set(static_cast<double>(std::max<std::int64_t>(0, hi - pos)));
    }
}

}  // namespace vigil::plugins::kafka_source

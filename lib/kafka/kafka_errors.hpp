// SPDX-License-Identifier: Apache-2.0
// What a Kafka error means for a record: try again, or never (dead-letter it).
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>

namespace vigil::plugins::kafka {

enum class Fate {
    Retry,   // the broker or network may recover: send again, forever, counted
    Outage,  // the topic or cluster refuses every record as configured (missing, not
             // authorised): nothing is wrong with the record, so it waits until someone
             // fixes that, said loudly, and is never dead-lettered
    Reject,  // this record can never be written: dead-letter it
};

/// One table, tested entry by entry: only errors that depend on the record itself (too large,
/// invalid) dead-letter it; a refusal of the topic or the cluster is an outage, since it would
/// refuse the whole stream; every other error, known or not, is retried, because dropping data
/// on an unknown error is worse than retrying it.
Fate classify(rd_kafka_resp_err_t err);

/// "Broker: Message size too large (MSG_SIZE_TOO_LARGE)".
std::string describe(rd_kafka_resp_err_t err);

/// True for errors that mean no broker can be used at all (the outage to log once).
bool is_connectivity_error(rd_kafka_resp_err_t err);

}  // namespace vigil::plugins::kafka

// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "kafka_errors.hpp"

using namespace vigil::plugins::kafka;

TEST_CASE("kafka: errors are sorted into retry, outage and reject by one table", "[unit]") {
    struct Case {
        rd_kafka_resp_err_t err;
        Fate fate;
    };
    const Case cases[] = {
        {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, Fate::Reject},
        // The topic or the cluster refuses the stream: wait, never dead-letter it all.
        {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, Fate::Outage},
        {RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, Fate::Outage},
        {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, Fate::Outage},
        {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, Fate::Outage},
        {RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, Fate::Outage},
        {RD_KAFKA_RESP_ERR_INVALID_RECORD, Fate::Reject},
        {RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, Fate::Reject},
        {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, Fate::Retry},
        {RD_KAFKA_RESP_ERR__TRANSPORT, Fate::Retry},
        {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, Fate::Retry},
        {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, Fate::Retry},
        {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, Fate::Retry},
        {RD_KAFKA_RESP_ERR__PURGE_QUEUE, Fate::Retry},
        {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, Fate::Retry},
        {RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, Fate::Retry},  // not in the table: retried
    };
    for (const auto& c : cases) {
        INFO(rd_kafka_err2name(c.err));
        CHECK(classify(c.err) == c.fate);
    }
}

TEST_CASE("kafka: an error reads as librdkafka's words and its code's name", "[unit]") {
    CHECK(describe(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) == "Broker: Message size too large (MSG_SIZE_TOO_LARGE)");
    CHECK(describe(RD_KAFKA_RESP_ERR__TRANSPORT).find("(_TRANSPORT)") != std::string::npos);
}

TEST_CASE("kafka: only errors that leave no broker usable are connectivity errors", "[unit]") {
    for (auto err : {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__RESOLVE,
                     RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR__SSL,
                     RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, RD_KAFKA_RESP_ERR__TIMED_OUT}) {
        INFO(rd_kafka_err2name(err));
        CHECK(is_connectivity_error(err));
    }
    for (auto err : {RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION}) {
        INFO(rd_kafka_err2name(err));
        CHECK_FALSE(is_connectivity_error(err));
    }
}

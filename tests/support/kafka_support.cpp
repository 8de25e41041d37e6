// SPDX-License-Identifier: Apache-2.0
#include "kafka_support.hpp"

#include <cstdlib>
#include <memory>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace vigil::test::kafka {

namespace {

struct Destroy {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, Destroy>;

Handle client(rd_kafka_type_t type, std::vector<std::pair<std::string, std::string>> settings) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    settings.insert(settings.begin(), {"bootstrap.servers", plaintext_brokers()});
    for (const auto& [k, v] : settings) {
        INFO(k << "=" << v);
        REQUIRE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
    }
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    INFO(err);
    REQUIRE(rk != nullptr);
    return Handle(rk);
}

std::vector<std::int32_t> partitions_of(rd_kafka_t* rk, const std::string& topic) {
    std::vector<std::int32_t> out;
    REQUIRE(wait_until(
        [&] {
            rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
            const struct rd_kafka_metadata* md = nullptr;
            auto err = rd_kafka_metadata(rk, 0, t, &md, 5000);
            rd_kafka_topic_destroy(t);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                return false;
            }
            out.clear();
            bool ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR;
            for (int i = 0; ok && i < md->topics[0].partition_cnt; ++i) {
                out.push_back(md->topics[0].partitions[i].id);
            }
            rd_kafka_metadata_destroy(md);
            return ok && !out.empty();
        },
        std::chrono::seconds(30)));
    return out;
}

}  // namespace

std::string env(const char* name) {
    const char* v = std::getenv(name);
    INFO(name << " is unset; run: eval \"$(scripts/services env)\" (scripts/test does)");
    REQUIRE(v != nullptr);
    return v;
}

std::string plaintext_brokers() { return env("KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS"); }

std::string unique(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return prefix + "-" + std::to_string(rng() % 1'000'000'000'000ULL);
}

void create_topic(const std::string& topic, int partitions) {
    auto rk = client(RD_KAFKA_PRODUCER, {});
    char err[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
    REQUIRE(nt != nullptr);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
    rd_kafka_CreateTopics(rk.get(), &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    REQUIRE(ev != nullptr);
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    REQUIRE(res != nullptr);
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
    REQUIRE(n == 1);
    const char* why = rd_kafka_topic_result_error_string(results[0]);
    INFO((why != nullptr ? why : ""));
    CHECK(rd_kafka_topic_result_error(results[0]) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    REQUIRE(partitions_of(rk.get(), topic).size() == static_cast<std::size_t>(partitions));
}

namespace {
void allow(const std::string& user, rd_kafka_ResourceType_t type, const std::string& name,
           rd_kafka_AclOperation_t operation) {
    auto rk = client(RD_KAFKA_PRODUCER, {});
    char err[512];
    rd_kafka_AclBinding_t* acl =
        rd_kafka_AclBinding_new(type, name.c_str(), RD_KAFKA_RESOURCE_PATTERN_LITERAL, ("User:" + user).c_str(), "*",
                                operation, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, err, sizeof err);
    INFO(err);
    REQUIRE(acl != nullptr);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
    rd_kafka_CreateAcls(rk.get(), &acl, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    REQUIRE(ev != nullptr);
    INFO((rd_kafka_event_error_string(ev) != nullptr ? rd_kafka_event_error_string(ev) : ""));
    CHECK(rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR);
    const rd_kafka_CreateAcls_result_t* res = rd_kafka_event_CreateAcls_result(ev);
    REQUIRE(res != nullptr);
    size_t n = 0;
    const rd_kafka_acl_result_t** results = rd_kafka_CreateAcls_result_acls(res, &n);
    REQUIRE(n == 1);
    const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[0]);
    INFO((e != nullptr ? rd_kafka_error_string(e) : ""));
    CHECK(e == nullptr);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AclBinding_destroy(acl);
}
}  // namespace

void allow_write(const std::string& user, const std::string& topic) {
    allow(user, RD_KAFKA_RESOURCE_TOPIC, topic, RD_KAFKA_ACL_OPERATION_WRITE);
}

void allow_read(const std::string& user, const std::string& topic, const std::string& group) {
    allow(user, RD_KAFKA_RESOURCE_TOPIC, topic, RD_KAFKA_ACL_OPERATION_READ);
    allow(user, RD_KAFKA_RESOURCE_GROUP, group, RD_KAFKA_ACL_OPERATION_READ);
}

void produce(const std::string& topic, const std::vector<Message>& messages) {
    auto rk = client(RD_KAFKA_PRODUCER, {{"enable.idempotence", "true"}, {"linger.ms", "5"}});
    for (const auto& m : messages) {
        rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size());
        for (const auto& [k, v] : m.headers) {
            rd_kafka_header_add(headers, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                                static_cast<ssize_t>(v.size()));
        }
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(
                    rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                    RD_KAFKA_V_PARTITION(m.partition >= 0 ? m.partition : RD_KAFKA_PARTITION_UA),
                    RD_KAFKA_V_KEY(m.key.empty() ? nullptr : const_cast<char*>(m.key.data()), m.key.size()),
                    RD_KAFKA_V_VALUE(m.value.empty() ? nullptr : const_cast<char*>(m.value.data()), m.value.size()),
                    RD_KAFKA_V_HEADERS(rd_kafka_headers_copy(headers)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk.get(), 50);
        }
        rd_kafka_headers_destroy(headers);
        REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(rk.get(), 60000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

std::int64_t count(const std::string& topic) {
    auto rk = client(RD_KAFKA_PRODUCER, {});
    std::int64_t total = 0;
    for (auto p : partitions_of(rk.get(), topic)) {
        std::int64_t lo = 0, hi = 0;
        REQUIRE(rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &lo, &hi, 10000) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
        total += hi - lo;
    }
    return total;
}

std::vector<Message> read_all(const std::string& topic, std::size_t expected, std::chrono::milliseconds timeout) {
    auto rk = client(
        RD_KAFKA_CONSUMER,
        {{"group.id", unique("vigil-test-reader")}, {"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}});
    auto parts = partitions_of(rk.get(), topic);
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto p : parts) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    REQUIRE(rd_kafka_assign(rk.get(), list) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
    std::vector<Message> out;
    std::map<std::int32_t, bool> at_end;
    wait_until(
        [&] {
            while (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 50)) {
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    at_end[m->partition] = true;
                } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    at_end[m->partition] = false;
                    Message msg;
                    if (m->key)
                        msg.key.assign(static_cast<const char*>(m->key), m->key_len);
                    if (m->payload)
                        msg.value.assign(static_cast<const char*>(m->payload), m->len);
                    msg.partition = m->partition;
                    msg.offset = m->offset;
                    rd_kafka_headers_t* h = nullptr;
                    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        const char* name;
                        const void* value;
                        size_t size;
                        for (size_t i = 0;
                             rd_kafka_header_get_all(h, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
                            msg.headers[name] = std::string(static_cast<const char*>(value), size);
                        }
                    }
                    out.push_back(std::move(msg));
                }
                rd_kafka_message_destroy(m);
            }
            bool all_end = at_end.size() == parts.size();
            for (auto& [p, end] : at_end)
                all_end = all_end && end;
            return out.size() >= expected && all_end;
        },
        timeout);
    rd_kafka_consumer_close(rk.get());
    return out;
}

std::map<std::int32_t, std::int64_t> committed(const std::string& group, const std::string& topic) {
    auto rk = client(RD_KAFKA_CONSUMER, {{"group.id", group}, {"enable.auto.commit", "false"}});
    auto parts = partitions_of(rk.get(), topic);
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto p : parts) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    }
    REQUIRE(rd_kafka_committed(rk.get(), list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    std::map<std::int32_t, std::int64_t> out;
    for (int i = 0; i < list->cnt; ++i) {
        out[list->elems[i].partition] = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_consumer_close(rk.get());
    return out;
}

}  // namespace vigil::test::kafka

// SPDX-License-Identifier: Apache-2.0
// scripts/services brings up real Kafka and PostgreSQL; these prove both answer, over TLS too,
// and that bad credentials and untrusted CAs are refused quickly and clearly.
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    INFO("run: eval \"$(scripts/services env)\" (scripts/test does)");
    REQUIRE(v != nullptr);
    return v;
}

std::string unique(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return prefix + "-" + std::to_string(rng() % 1'000'000'000);
}

struct Errors {
    std::mutex mutex;
    std::vector<std::string> seen;
    rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::atomic<int> delivered{0};
    std::atomic<int> failed{0};
};

void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* e = static_cast<Errors*>(opaque);
    std::lock_guard lock(e->mutex);
    e->seen.emplace_back(reason);
    e->last = static_cast<rd_kafka_resp_err_t>(err);
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* e = static_cast<Errors*>(opaque);
    (m->err == RD_KAFKA_RESP_ERR_NO_ERROR ? e->delivered : e->failed)++;
}

using Conf = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> make_client(rd_kafka_type_t type, const Conf& settings,
                                                               Errors& errors) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (const auto& [k, v] : settings) {
        INFO(k << "=" << v);
        REQUIRE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
    }
    rd_kafka_conf_set_opaque(conf, &errors);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    INFO(err);
    REQUIRE(rk != nullptr);
    return {rk, rd_kafka_destroy};
}

Conf sasl_conf(const std::string& password, const std::string& ca) {
    return {{"bootstrap.servers", env("KAFKA_BOOTSTRAP_SERVERS")},
            {"security.protocol", env("KAFKA_SECURITY_PROTOCOL")},
            {"sasl.mechanism", env("KAFKA_SASL_MECHANISM")},
            {"sasl.username", env("KAFKA_USERNAME")},
            {"sasl.password", password},
            {"ssl.ca.location", ca}};
}

// Produces one message and waits for its delivery report.
bool produce_one(rd_kafka_t* rk, Errors& errors, const std::string& topic, const std::string& payload) {
    auto err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                 RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
    return vigil::test::wait_until(
               [&] {
                   rd_kafka_poll(rk, 50);
                   return errors.delivered > 0 || errors.failed > 0;
               },
               std::chrono::seconds(30)) &&
           errors.delivered == 1;
}

}  // namespace

TEST_CASE("kafka: a message produced over PLAINTEXT is consumed back", "[integration]") {
    Errors pe, ce;
    auto topic = unique("smoke-plain");
    auto producer = make_client(
        RD_KAFKA_PRODUCER,
        {{"bootstrap.servers", env("KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS")}, {"enable.idempotence", "true"}}, pe);
    REQUIRE(produce_one(producer.get(), pe, topic, "hello vigil"));

    auto consumer = make_client(RD_KAFKA_CONSUMER,
                                {{"bootstrap.servers", env("KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS")},
                                 {"group.id", unique("smoke-group")},
                                 {"enable.auto.commit", "false"}},
                                ce);
    auto* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    REQUIRE(rd_kafka_assign(consumer.get(), parts) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    std::string got;
    REQUIRE(vigil::test::wait_until(
        [&] {
            if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100)) {
                if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    got.assign(static_cast<const char*>(m->payload), m->len);
                }
                rd_kafka_message_destroy(m);
            }
            return !got.empty();
        },
        std::chrono::seconds(30)));
    CHECK(got == "hello vigil");
    rd_kafka_consumer_close(consumer.get());
}

TEST_CASE("kafka: SASL_SSL with the CA verified accepts the right password", "[integration]") {
    Errors e;
    auto producer = make_client(RD_KAFKA_PRODUCER, sasl_conf(env("KAFKA_PASSWORD"), env("KAFKA_CA_FILE")), e);
    CHECK(produce_one(producer.get(), e, unique("smoke-sasl"), "over tls"));
}

TEST_CASE("kafka: a wrong password is an authentication error within seconds", "[integration]") {
    Errors e;
    auto producer = make_client(RD_KAFKA_PRODUCER, sasl_conf("not-the-password", env("KAFKA_CA_FILE")), e);
    rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("smoke-denied"), RD_KAFKA_V_VALUE(const_cast<char*>("x"), 1),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    auto start = std::chrono::steady_clock::now();
    REQUIRE(vigil::test::wait_until(
        [&] {
            rd_kafka_poll(producer.get(), 50);
            std::lock_guard lock(e.mutex);
            return e.last == RD_KAFKA_RESP_ERR__AUTHENTICATION;
        },
        std::chrono::seconds(10)));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    std::lock_guard lock(e.mutex);
    CHECK(e.seen.back().find("Authentication failed") != std::string::npos);
    CHECK(e.delivered == 0);
}

TEST_CASE("kafka: a broker certificate from an untrusted CA is refused", "[integration]") {
    Errors e;
    auto producer = make_client(RD_KAFKA_PRODUCER, sasl_conf(env("KAFKA_PASSWORD"), env("VIGIL_UNTRUSTED_CA_FILE")), e);
    rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("smoke-untrusted"), RD_KAFKA_V_VALUE(const_cast<char*>("x"), 1),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    REQUIRE(vigil::test::wait_until(
        [&] {
            rd_kafka_poll(producer.get(), 50);
            std::lock_guard lock(e.mutex);
            for (const auto& s : e.seen) {
                if (s.find("certificate verify failed") != std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        std::chrono::seconds(10)));
    CHECK(e.delivered == 0);
}

namespace {
using Conn = std::unique_ptr<PGconn, void (*)(PGconn*)>;
Conn connect(const std::string& url) { return Conn(PQconnectdb(url.c_str()), PQfinish); }
std::string one_value(PGconn* c, const std::string& sql) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(c, sql.c_str()), PQclear);
    INFO(sql << ": " << PQerrorMessage(c));
    REQUIRE((PQresultStatus(r.get()) == PGRES_TUPLES_OK || PQresultStatus(r.get()) == PGRES_COMMAND_OK));
    return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}
}  // namespace

TEST_CASE("postgresql: answers over TLS with verify-full, in a database of the test's own", "[integration]") {
    auto url = env("DATABASE_URL");
    auto admin = connect(url);
    INFO(PQerrorMessage(admin.get()));
    REQUIRE(PQstatus(admin.get()) == CONNECTION_OK);
    CHECK(one_value(admin.get(), "select ssl::text from pg_stat_ssl where pid = pg_backend_pid()") == "true");
    CHECK(one_value(admin.get(), "show server_version").rfind("15.", 0) == 0);

    auto db = unique("smoke_db");
    one_value(admin.get(), "create database \"" + db + "\"");
    {
        std::string own = url;
        own.replace(own.find("/vigil?"), 7, "/" + db + "?");
        auto c = connect(own);
        REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
        one_value(c.get(), "create table t (id int primary key, v text)");
        one_value(c.get(), "insert into t values (1, 'O''Brien; drop table t; --')");
        CHECK(one_value(c.get(), "select v from t where id = 1") == "O'Brien; drop table t; --");
    }
    one_value(admin.get(), "drop database \"" + db + "\"");
}

TEST_CASE("postgresql: a server certificate from an untrusted CA is refused", "[integration]") {
    auto url = env("DATABASE_URL");
    url.replace(url.find("sslrootcert=") + 12, std::string::npos, env("VIGIL_UNTRUSTED_CA_FILE"));
    auto c = connect(url);
    CHECK(PQstatus(c.get()) == CONNECTION_BAD);
    CHECK(std::string(PQerrorMessage(c.get())).find("certificate verify failed") != std::string::npos);
}

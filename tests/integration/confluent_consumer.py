#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Someone else's consumer of Vigil's records: confluent-kafka's Consumer with its JSONDeserializer
and SchemaRegistryClient (from PyPI, in .venv-test), as a Python service would read a topic that
kafka_sink writes with schema_registry. The deserializer fetches the writer's schema by the id in
each message and validates the record against it (jsonschema).

    confluent_consumer.py BROKERS TOPIC REGISTRY_URL EXPECTED

Prints each record as one JSON line; exits 0 once EXPECTED were read (60 s at most), 1 if not.
"""
import json
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    brokers, topic, registry, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    deserialize = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": registry}))
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "python-" + topic,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    read, deadline = 0, time.time() + 60
    try:
        while read < expected and time.time() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            record = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
            print(json.dumps(record, sort_keys=True), flush=True)
            read += 1
    finally:
        consumer.close()
    print("read %d of %d" % (read, expected), file=sys.stderr)
    return 0 if read == expected else 1


if __name__ == "__main__":
    sys.exit(main())

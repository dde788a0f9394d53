"""CP-IS domain: values, the child protection record aggregate, rules and use cases.

Imports no infrastructure (no Kafka, Avro, PostgreSQL driver, XML or MESH client);
import-linter enforces it.
"""

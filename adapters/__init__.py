"""Adapters between the domain and the outside: HL7 V3, MESH, PDS, views."""

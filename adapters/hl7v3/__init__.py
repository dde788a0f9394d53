"""HL7 V3 CP-IS NHS query: hardened parsing, response and failure messages, SOAP."""

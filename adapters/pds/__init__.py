"""PDS port implementations: the embedded synthetic PDS data set for dev and tests."""

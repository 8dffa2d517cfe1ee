"""Tests of labels, print runs, the Digital Link resolver and the consumer scan page."""

"""Synthetic Jilin supply networks for tests and benchmarks: master data plus EPCIS 2.0 events, seeded."""

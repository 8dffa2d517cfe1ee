"""Hardening: fuzzing, hostile input, outages, authorization, QR forgery, backup and restore."""

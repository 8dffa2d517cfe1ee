"""Supervision from the app's side: the configured rule thresholds and targets, and `flask alerts sweep`."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from graph import risk
from graph.supervision_rules import targets_from

alerts_cli = AppGroup("alerts", help="Risk warnings.")


def rule_settings(app: Flask | None = None) -> dict:
    """The hazard-cluster thresholds record_inspection applies (ALERT_HAZARD_CLUSTER_N / _DAYS)."""
    config = (app or current_app).config
    return {"hazard_cluster_n": int(config.get("ALERT_HAZARD_CLUSTER_N", 3)),
            "hazard_cluster_days": int(config.get("ALERT_HAZARD_CLUSTER_DAYS", 30))}


def targets(app: Flask | None = None) -> dict[str, float]:
    """The pass-rate targets in force: the plan's, with SUPERVISION_TARGETS (JSON) over them."""
    raw = (app or current_app).config.get("SUPERVISION_TARGETS") or ""
    if isinstance(raw, dict):
        return targets_from(raw)
    try:
        return targets_from(json.loads(raw) if raw.strip() else {})
    except (ValueError, TypeError, AttributeError) as exc:
        raise RuntimeError(f"SUPERVISION_TARGETS must be a JSON object of programme -> rate, got {raw!r}") from exc


def run_sweep(app: Flask | None = None) -> dict:
    """Run the sweep rules once with the configured thresholds; return the alerts newly raised by kind."""
    app = app or current_app._get_current_object()
    c = app.config
    return risk.sweep(app.extensions["graph"], certificate_days=int(c.get("ALERT_CERTIFICATE_DAYS", 30)),
                      burst_n=int(c.get("ALERT_SCAN_BURST_N", 5)), burst_hours=int(c.get("ALERT_SCAN_BURST_HOURS", 24)))


@alerts_cli.command("sweep")
def sweep_command() -> None:
    """Raise alerts for expiring certificates, movements under expired ones and counterfeit-scan bursts."""
    from app.audit import record

    counts = run_sweep()
    record("cli.alerts.sweep", detail=counts, outcome="done")
    click.echo(", ".join(f"{k}: {v} new" for k, v in counts.items()))

"""Delivering recall notifications: the worker (`flask notify worker`), its channels and the escalation pass.

The outbox (graph/outbox.py) holds every notice; this worker leases due ones, sends each on its channel and records
the outcome, retrying failures with exponential backoff. Delivery is at least once: a worker killed after sending
and before recording leaves a lease that runs out, and the notice goes again under the same delivery ID, which
receivers de-duplicate on. Messages are rendered at delivery time (graph/notify_rules.render); the one-time link's
token is derived from NOTIFY_KEY there and never stored, nor logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import os
import smtplib
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import outbound, subscriptions
from graph import notify_rules, outbox, recall_cases
from graph.errors import Unavailable

log = logging.getLogger(__name__)
_KEY_DOMAIN = b"tracegraph/notify-key/v1"
notify_cli = AppGroup("notify", help="Recall notifications: the delivery worker and escalation.")


def notify_key(app: Flask | None = None) -> bytes:
    """The notification key: NOTIFY_KEY, else HMAC-SHA256(SECRET_KEY, a fixed domain) (never stored)."""
    config = (app or current_app).config
    configured = (config.get("NOTIFY_KEY") or "").strip()
    if configured:
        return configured.encode("utf-8")
    return hmac.new(config["SECRET_KEY"].encode("utf-8"), _KEY_DOMAIN, hashlib.sha256).digest()


def ack_url(app: Flask, link: str | None) -> tuple[str | None, str]:
    """The one-time link of a notice and its token (both None/'' when the notice has no link)."""
    if not link:
        return None, ""
    token = notify_rules.link_token(notify_key(app), link)
    return f"{app.config['PUBLIC_BASE_URL']}/recall-ack/{token}", token


class SmsSender(Protocol):
    """Sends one text message; raises on failure (the worker retries)."""

    def send(self, phone: str, text: str, delivery_id: str) -> str:
        """Send `text` to `phone`; return the gateway's receipt."""


class LoggingSms:
    """The SMS sender used where no gateway is reachable: it writes the message to the log (token redacted)."""

    def __init__(self) -> None:
        self.log = logging.getLogger("tracegraph.sms")

    def send(self, phone: str, text: str, delivery_id: str) -> str:
        """Log the message with a masked number; return a receipt naming the delivery."""
        masked = phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
        self.log.info("SMS to %s [%s]: %s", masked, delivery_id, text)
        return f"logged:{delivery_id}"


SMS_SENDERS = {"log": LoggingSms}


class Deliverer:
    """Sends a leased notification on its channel and says what happened (never raises for a send failure)."""

    def __init__(self, app: Flask):
        self.app = app
        self.key = notify_key(app)
        self.sms: SmsSender = SMS_SENDERS[app.config.get("SMS_SENDER", "log")]()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[smtplib.SMTP] = []

    def deliver(self, row: dict) -> dict:
        """Try one notification; return its outcome for outbox.finish."""
        url, token = ack_url(self.app, row["link_id"])
        payload, channel = row["payload"], row["channel"]
        try:
            if channel == subscriptions.CHANNEL:  # an EPCIS query subscription's document (app/subscriptions.py)
                if not row["dest"]:
                    return {"delivery_id": row["delivery_id"], "state": "cancelled", "error": "unsubscribed"}
                receipt = subscriptions.send(self.app, self.key, row)
            elif channel == "webhook":
                if not row["webhook_url"]:
                    return self._no_address(row)
                receipt = self._webhook(row, notify_rules.webhook_body(payload, row["delivery_id"], url))
            elif channel == "email":
                if not row["email"]:
                    return self._no_address(row)
                receipt = self._email(row, *notify_rules.render(payload, url))
            else:
                if not row["phone"]:
                    return self._no_address(row)
                receipt = self.sms.send(row["phone"], notify_rules.sms_text(payload, url), row["delivery_id"])
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is a failed try, retried later
            error = notify_rules.redact_link(f"{type(exc).__name__}: {exc}", token)[:500]
            attempts = row["attempts"]
            if attempts >= self.app.config["NOTIFY_MAX_ATTEMPTS"]:
                log.error("notification %s (%s) failed for good after %d tries: %s", row["delivery_id"], channel,
                          attempts, error)
                return {"delivery_id": row["delivery_id"], "state": "failed", "error": error}
            log.warning("notification %s (%s) try %d failed: %s", row["delivery_id"], channel, attempts, error)
            return {"delivery_id": row["delivery_id"], "state": "pending", "error": error,
                    "retry_in": notify_rules.backoff_seconds(attempts)}
        return {"delivery_id": row["delivery_id"], "state": "delivered", "receipt": receipt}

    def _no_address(self, row: dict) -> dict:
        return {"delivery_id": row["delivery_id"], "state": "no_address",
                "error": f"the party has no {row['channel']} address"}

    def _webhook(self, row: dict, body: bytes) -> str:
        gln = row["payload"]["party_gln"]
        secret = notify_rules.webhook_secret(self.key, gln, row["secret_version"])
        stamp = int(time.time())
        signature = notify_rules.sign(secret, stamp, body)
        if row.get("previous_version"):
            # just after a rotation the previous secret signs too, so a receiver switches over without a gap
            previous = notify_rules.webhook_secret(self.key, gln, row["previous_version"])
            signature += "," + notify_rules.sign(previous, stamp, body)
        status = outbound.post(row["webhook_url"], body, {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "TraceGraph-Notify/1",
            notify_rules.DELIVERY_HEADER: row["delivery_id"],
            notify_rules.TIMESTAMP_HEADER: str(stamp),
            notify_rules.SIGNATURE_HEADER: signature,
        }, self.app.config["WEBHOOK_TIMEOUT_S"], public_only=self.app.config["ENV"] == "production")
        return f"http {status}"

    def _email(self, row: dict, subject: str, text: str) -> str:
        config = self.app.config
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = config["SMTP_FROM"]
        message["To"] = row["email"]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{row['delivery_id']}@tracegraph>"
        message[notify_rules.DELIVERY_HEADER] = row["delivery_id"]
        message.set_content(text, charset="utf-8")
        # one connection per delivering thread for a whole batch (a handshake per message costs more than the
        # message); a connection the server dropped meanwhile is opened again once, for this same try
        for fresh in (False, True):
            smtp = self._smtp(fresh)
            try:
                smtp.send_message(message)
                return "smtp accepted"
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self._drop_smtp()
                if fresh:
                    raise
        raise AssertionError("unreachable")

    def _smtp(self, fresh: bool) -> smtplib.SMTP:
        smtp = getattr(self._local, "smtp", None)
        if smtp is None or fresh:
            config = self.app.config
            smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT_S"])
            self._local.smtp = smtp
            with self._lock:
                self._open.append(smtp)
        return smtp

    def _drop_smtp(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.close()

    def close(self) -> None:
        """Close the SMTP connections the threads opened (after each batch: servers drop idle ones anyway)."""
        with self._lock:
            opened, self._open = self._open, []
        for smtp in opened:
            with contextlib.suppress(Exception):
                smtp.quit()
        self._local = threading.local()


def escalate(app: Flask) -> int:
    """Escalate holders silent past their start deadline (alert + second notice); audit each; return how many."""
    from app.audit import record

    raised = recall_cases.escalate(app.extensions["graph"], notify_key(app))
    for r in raised:
        record("notify.escalate", app=app, outcome="done", actor="notify-worker", detail=r)
    return len(raised)


def worker_id() -> str:
    """This worker's lease owner name: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def lease_seconds(config) -> int:
    """How long a batch is leased: at least NOTIFY_LEASE_SECONDS, and long enough for every try of the batch to
    time out (batch / threads rounds of the slowest channel's timeout), so no other worker claims a notice while
    this one may still be sending it."""
    rounds = math.ceil(config["NOTIFY_BATCH"] / max(config["NOTIFY_THREADS"], 1))
    slowest = max(config["WEBHOOK_TIMEOUT_S"], config["SMTP_TIMEOUT_S"]) + 1
    return max(config["NOTIFY_LEASE_SECONDS"], rounds * slowest)


def run_once(app: Flask, deliverer: Deliverer, worker: str, pool: ThreadPoolExecutor,
             recall_id: str | None = None, channel: str | None = None) -> int:
    """Claim one batch of due notices, deliver them in parallel and record the outcomes; return how many."""
    graph = app.extensions["graph"]
    began = time.perf_counter()
    if recall_id is None and channel in (None, subscriptions.CHANNEL):
        subscriptions.prepare(app, worker)  # EPCIS subscriptions' due documents join the outbox first
    rows = outbox.claim(graph, worker, app.config["NOTIFY_BATCH"], lease_seconds(app.config), recall_id,
                        app.config["WEBHOOK_SECRET_OVERLAP_S"], channel)
    if not rows:
        return 0
    claimed = time.perf_counter()
    try:
        results = list(pool.map(deliverer.deliver, rows))
    finally:
        deliverer.close()
    sent = time.perf_counter()
    outbox.finish(graph, worker, results)
    log.info("batch of %d: claimed in %.2f s, sent in %.2f s, recorded in %.2f s (%d delivered)", len(rows),
             claimed - began, sent - claimed, time.perf_counter() - sent,
             sum(r["state"] == "delivered" for r in results))
    return len(rows)


def run_worker(app: Flask, recall_id: str | None = None, once: bool = False,
               stop: threading.Event | None = None, channel: str | None = None) -> int:
    """Deliver notices until stopped (or, with once, until none is due); escalate silent holders now and then.

    A database that stops answering is waited for (with backoff), never a reason to exit: what was leased and not
    recorded is claimed again when the lease runs out.
    """
    stop = stop or threading.Event()
    deliverer, worker, sent = Deliverer(app), worker_id(), 0
    poll, pause = app.config["NOTIFY_POLL_SECONDS"], 0.0
    last_escalation = 0.0
    with ThreadPoolExecutor(max_workers=app.config["NOTIFY_THREADS"]) as pool:
        while not stop.is_set():
            try:
                every = app.config["NOTIFY_ESCALATE_SECONDS"]  # 0: this worker never escalates
                if not once and recall_id is None and every > 0 and time.monotonic() - last_escalation >= every:
                    escalate(app)
                    last_escalation = time.monotonic()
                done = run_once(app, deliverer, worker, pool, recall_id, channel)
                pause = 0.0
            except Unavailable as exc:
                pause = min(max(pause * 2, 1.0), 30.0)
                log.warning("notify worker: %s; trying again in %.0f s", exc.message, pause)
                stop.wait(pause)
                continue
            except Exception:  # noqa: BLE001 - the worker outlives one bad pass; leases make the next pass safe
                pause = min(max(pause * 2, 1.0), 30.0)
                log.exception("notify worker: a pass failed; trying again in %.0f s", pause)
                stop.wait(pause)
                continue
            sent += done
            if done == 0:
                if once:
                    break
                stop.wait(poll)
    return sent


@notify_cli.command("worker")
@click.option("--recall", "recall_id", default=None, help="deliver only this case's notices")
@click.option("--once", is_flag=True, help="stop when no notice is due")
@click.option("--channel", default=None, help="deliver only this channel (webhook, email, sms, epcis)")
def worker_command(recall_id, once, channel):
    """Deliver recall notifications (webhook, e-mail, SMS) and EPCIS subscription documents with retries; runs until
    stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    click.echo(f"notify worker: delivering{' ' + recall_id if recall_id else ''} (Ctrl-C to stop)", err=True)
    try:
        sent = run_worker(app, recall_id=recall_id, once=once, channel=channel)
    except KeyboardInterrupt:
        return
    click.echo(f"delivered or settled: {sent}", err=True)


@notify_cli.command("escalate")
def escalate_command():
    """Raise alerts for holders silent past their start deadline and send each a second message."""
    raised = escalate(current_app._get_current_object())
    click.echo(f"escalated: {raised} silent holder(s)")


def register(app: Flask) -> None:
    """Add `flask notify ...` to the app's commands."""
    app.cli.add_command(notify_cli)


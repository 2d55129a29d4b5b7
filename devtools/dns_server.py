"""A small authoritative DNS server on 127.0.0.1 (UDP and TCP on one port), built on dnslib's server classes, so
custom-domain verification runs through dnspython and the real wire protocol in tests and in the demo.

It answers from a record table that may change while it runs (`record_set`, `name_forget`):
- a name with records of the asked type: those records (TXT, CNAME, A, AAAA), authoritative;
- a name with a CNAME, asked for another type: the CNAME, followed by the target's records when this server
  holds them (as an authoritative server does within its own data);
- a name without records of that type, or with records only below it (an "empty non-terminal"): NOERROR with
  no answer;
- a name that does not exist under a wildcard (`*.portal.example.com`): the wildcard's records, owned by the
  name asked (RFC 4592, simplified: the closest existing ancestor's wildcard, if any);
- an unknown name: NXDOMAIN;
- a name marked slow (`slow_add`): no answer at all, so the client's timeout is exercised.

Run it alone: `python -m devtools.dns_server --port 5353 --records records.json`, the JSON being
{"portal.example.com": {"CNAME": ["northwind.domains.localhost"]}, ...}; with `--watch` it serves the file's new
records whenever the file changes (`./dev up` runs it so, on DEV_DNS_PORT, for the demo's custom domain).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, TXT, A, DNSError, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

RECORD_TYPES = {"A": A, "AAAA": AAAA, "CNAME": CNAME, "TXT": TXT}
TTL_S = 60
# A CNAME chain longer than this is a loop in the table, not data to follow.
CNAME_CHAIN_MAX = 8


class _Dropped(DNSError):
    """Raised for a slow name: dnslib's handler swallows a DNSError without sending any reply."""


def _name_key(name: str) -> str:
    return name.rstrip(".").lower()


class RecordTable(BaseResolver):
    """The zone data and the resolver dnslib's server calls for each query. Thread-safe: the server's threads
    read while a test changes records."""

    def __init__(self, records: dict[str, dict[str, list[str]]] | None = None):
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, list[str]]] = {}
        self._slow: set[str] = set()
        for name, by_type in (records or {}).items():
            for rtype, values in by_type.items():
                self.record_set(name, rtype, values)

    def record_set(self, name: str, rtype: str, values: list[str]) -> None:
        """Replace the `rtype` records of `name` (an empty list removes them)."""
        if rtype not in RECORD_TYPES:
            raise ValueError(f"Unsupported record type {rtype}; use one of {sorted(RECORD_TYPES)}.")
        with self._lock:
            by_type = self._records.setdefault(_name_key(name), {})
            if values:
                by_type[rtype] = list(values)
            else:
                by_type.pop(rtype, None)

    def records_replace(self, records: dict[str, dict[str, list[str]]]) -> None:
        """Serve `records` (the JSON file's shape) instead of everything held so far."""
        table = RecordTable(records)
        with self._lock:
            self._records = table._records

    def name_forget(self, name: str) -> None:
        """Remove every record of `name`: it answers NXDOMAIN again."""
        with self._lock:
            self._records.pop(_name_key(name), None)
            self._slow.discard(_name_key(name))

    def slow_add(self, name: str) -> None:
        with self._lock:
            self._slow.add(_name_key(name))

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        qname = str(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        key = _name_key(qname)
        with self._lock:
            if key in self._slow:
                raise _Dropped(f"{key} is slow")
            reply = request.reply(aa=1)
            source = key if self._name_exists(key) else self._wildcard_for(key)
            if source is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            self._answer(reply, key, qtype, source=source)
        return reply

    def _wildcard_for(self, key: str) -> str | None:
        """The wildcard name whose records answer for `key`, which does not exist: `*.<ancestor>` of its closest
        existing ancestor; None when that ancestor has no wildcard."""
        labels = key.split(".")
        for start in range(1, len(labels)):
            ancestor = ".".join(labels[start:])
            if self._records.get(f"*.{ancestor}"):
                return f"*.{ancestor}"
            if self._name_exists(ancestor):
                return None
        return None

    def _name_exists(self, key: str) -> bool:
        return any(name == key or name.endswith(f".{key}") for name, by_type in self._records.items() if by_type)

    def _answer(self, reply: DNSRecord, key: str, qtype: str, *, source: str) -> None:
        for _ in range(CNAME_CHAIN_MAX):
            by_type = self._records.get(source, {})
            if qtype in by_type:
                for value in by_type[qtype]:
                    reply.add_answer(RR(key, QTYPE.reverse[qtype], rdata=_rdata(qtype, value), ttl=TTL_S))
                return
            if "CNAME" not in by_type:
                return
            target = by_type["CNAME"][0]
            reply.add_answer(RR(key, QTYPE.CNAME, rdata=CNAME(target), ttl=TTL_S))
            key = source = _name_key(target)


def _rdata(rtype: str, value: str):
    if rtype == "TXT":
        # One TXT record holds strings of at most 255 bytes each.
        return TXT([value[i:i + 255] for i in range(0, len(value), 255)] or [""])
    return RECORD_TYPES[rtype](value)


PORT_ATTEMPTS = 20


class LocalDnsServer:
    """The record table served on 127.0.0.1:`port` over UDP and TCP by two of dnslib's threaded servers.
    Port 0 picks a free UDP port, which TCP then shares."""

    def __init__(self, table: RecordTable | None = None, *, port: int = 0, address: str = "127.0.0.1"):
        self.table = table or RecordTable()
        quiet = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        self.address = address
        # A free UDP port may be taken for TCP (parallel test workers): pick another, a few times.
        for attempt in range(PORT_ATTEMPTS if port == 0 else 1):
            self._udp = DNSServer(self.table, address=address, port=port, logger=quiet)
            self.port: int = self._udp.server.server_address[1]
            try:
                self._tcp = DNSServer(self.table, address=address, port=self.port, tcp=True, logger=quiet)
                break
            except OSError:
                self._udp.server.server_close()
                if attempt == (PORT_ATTEMPTS if port == 0 else 1) - 1:
                    raise

    def start(self) -> LocalDnsServer:
        self._udp.start_thread()
        self._tcp.start_thread()
        return self

    def stop(self) -> None:
        for server in (self._udp, self._tcp):
            server.stop()
            server.server.server_close()


WATCH_INTERVAL_S = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve DNS records from a JSON file on 127.0.0.1 (UDP and TCP).")
    parser.add_argument("--port", type=int, default=5353)
    parser.add_argument("--records", type=Path, help='{"name": {"TXT": ["..."], "CNAME": ["..."], "A": [...]}}')
    parser.add_argument("--watch", action="store_true",
                        help="Serve the file's new records whenever it changes (the demo seeds write theirs).")
    arguments = parser.parse_args()
    table = RecordTable(_records_read(arguments.records))
    server = LocalDnsServer(table, port=arguments.port).start()
    seen = _mtime(arguments.records)
    try:
        while True:
            time.sleep(WATCH_INTERVAL_S if arguments.watch else 3600)
            if arguments.watch and _mtime(arguments.records) != seen:
                seen = _mtime(arguments.records)
                table.records_replace(_records_read(arguments.records))
    except KeyboardInterrupt:
        server.stop()


def _records_read(path: Path | None) -> dict:
    """The file's records; none while it does not exist (writers replace it whole, by a rename)."""
    try:
        return json.loads(path.read_text()) if path else {}
    except FileNotFoundError:
        return {}


def _mtime(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path else None
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    main()

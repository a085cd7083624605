#!/usr/bin/env python3
"""Independent check of a scamsweep evidence WARC, for app/tests/evidence.rs.

Reads the file twice:

1. strictly, by hand: every record is `WARC/1.1` CRLF, header lines ending in CRLF, an
   empty line, exactly Content-Length octets, then CRLF CRLF; nothing else in the file;
2. with warcio's ArchiveIterator(check_digests=True): every record's WARC-Block-Digest
   and (where present) WARC-Payload-Digest must be recomputed and pass.

Prints one JSON object (records with their ids, types, target URIs, HTTP status, the
SHA-256 of the payload as warcio delivers it, digest verdicts) and exits 1 if any problem
was found, 0 otherwise. Usage: warc_check.py FILE.warc
"""

import hashlib
import json
import sys
from importlib.metadata import version

from warcio.archiveiterator import ArchiveIterator


def strict_framing(data):
    """Walks the records by hand; returns (count, problems)."""
    problems = []
    pos = 0
    count = 0
    while pos < len(data):
        if not data.startswith(b"WARC/1.1\r\n", pos):
            problems.append("offset %d: record does not start with WARC/1.1 CRLF" % pos)
            break
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            problems.append("offset %d: header section never ends" % pos)
            break
        head = data[pos:end]
        lines = head.split(b"\r\n")
        if any(b"\n" in line or b"\r" in line for line in lines):
            problems.append("offset %d: bare CR or LF in header section" % pos)
        length = None
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                problems.append("offset %d: header line without colon: %r" % (pos, line))
                continue
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            problems.append("offset %d: no Content-Length" % pos)
            break
        block_start = end + 4
        block_end = block_start + length
        if data[block_end:block_end + 4] != b"\r\n\r\n":
            problems.append("offset %d: block not followed by CRLF CRLF" % pos)
            break
        pos = block_end + 4
        count += 1
    return count, problems


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    strict_count, problems = strict_framing(data)
    records = []
    with open(path, "rb") as f:
        it = ArchiveIterator(f, check_digests=True)
        for rec in it:
            h = rec.rec_headers
            entry = {
                "version": h.protocol,
                "type": rec.rec_type,
                "id": h.get_header("WARC-Record-ID"),
                "date": h.get_header("WARC-Date"),
                "target_uri": h.get_header("WARC-Target-URI"),
                "concurrent_to": h.get_header("WARC-Concurrent-To"),
                "ip": h.get_header("WARC-IP-Address"),
                "content_type": h.get_header("Content-Type"),
                "block_digest": h.get_header("WARC-Block-Digest"),
                "payload_digest": h.get_header("WARC-Payload-Digest"),
                "http_status": None,
                "http_location": None,
                "http_content_length": None,
            }
            if rec.http_headers is not None:
                if rec.rec_type == "response":
                    entry["http_status"] = int(rec.http_headers.get_statuscode())
                else:
                    entry["http_request_line"] = "%s %s" % (
                        rec.http_headers.protocol,
                        rec.http_headers.statusline,
                    )
                    entry["http_host"] = rec.http_headers.get_header("Host")
                    entry["http_user_agent"] = rec.http_headers.get_header("User-Agent")
                entry["http_location"] = rec.http_headers.get_header("Location")
                entry["http_content_length"] = rec.http_headers.get_header("Content-Length")
            # Read the payload before anything that reads ahead (get_record_offset does).
            payload = rec.raw_stream.read()
            entry["offset"] = it.get_record_offset()
            entry["payload_sha256"] = hashlib.sha256(payload).hexdigest()
            entry["payload_size"] = len(payload)
            passed = rec.digest_checker.passed
            entry["digest_passed"] = passed
            for p in rec.digest_checker.problems:
                problems.append("%s %s: %s" % (entry["type"], entry["id"], p))
            if passed is not True:
                problems.append(
                    "%s %s: digests not verified (passed=%r)" % (entry["type"], entry["id"], passed)
                )
            if entry["version"] != "WARC/1.1":
                problems.append("%s: version %r" % (entry["id"], entry["version"]))
            records.append(entry)
    if strict_count != len(records):
        problems.append(
            "strict framing saw %d records, warcio %d" % (strict_count, len(records))
        )
    out = {
        "warcio_version": version("warcio"),
        "strict_records": strict_count,
        "records": records,
        "problems": problems,
        "ok": not problems,
    }
    print(json.dumps(out))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

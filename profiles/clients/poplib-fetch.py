#!/usr/bin/env python3
"""Fetch mail with Python's poplib, the way most scripts do: connect (POP3,
POP3_SSL or POP3 + stls()), log in with user/pass_ (or apop), list, retr each
message into a file, dele it, quit. The password comes from a file, never
from the command line. Used by pop3spec's client profile poplib.profile."""
import argparse
import os
import poplib
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["plain", "stls", "stls-opt", "implicit"], default="plain")
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--passfile", required=True)
    ap.add_argument("--cafile")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--action", default="fetch", choices=["fetch", "fetch-keep", "check"])
    ap.add_argument("--auth", default="default", choices=["default", "apop"])
    a = ap.parse_args()
    with open(a.passfile) as f:
        password = f.read().rstrip("\r\n")

    ctx = ssl.create_default_context(cafile=a.cafile)
    if a.mode == "implicit":
        box = poplib.POP3_SSL(a.host, a.port, context=ctx, timeout=15)
    else:
        box = poplib.POP3(a.host, a.port, timeout=15)
        if a.mode == "stls":
            box.stls(context=ctx)
        elif a.mode == "stls-opt":
            try:
                caps = box.capa()
            except poplib.error_proto:
                caps = {}
            if "STLS" in caps:
                box.stls(context=ctx)
    if a.auth == "apop":
        box.apop(a.user, password)
    else:
        box.user(a.user)
        box.pass_(password)

    resp, listing, _ = box.list()
    numbers = [int(line.split()[0]) for line in listing]
    if a.action == "check":
        print("%d messages" % len(numbers))
        box.quit()
        return 0
    os.makedirs(a.outdir, exist_ok=True)
    for n in numbers:
        resp, lines, _ = box.retr(n)
        # poplib has already removed the dot-stuffing and the line ends.
        data = b"".join(line + b"\r\n" for line in lines)
        path = os.path.join(a.outdir, "%d.eml" % n)
        with open(path, "wb") as f:
            f.write(data)
        if a.action == "fetch":
            box.dele(n)
    box.quit()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (poplib.error_proto, OSError, ssl.SSLError) as e:
        print("poplib-fetch: %s" % e, file=sys.stderr)
        sys.exit(1)

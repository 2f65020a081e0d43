#!/usr/bin/env python3
"""Minimal Docker/OCI registry token server for tests (Python stdlib + openssl CLI).

Implements the distribution "token authentication" spec well enough for
docker/distribution 2.8 (Debian `docker-registry`), skopeo/containers-image and
Docker-style clients:

  GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...]
  POST /token   (OAuth2 form: grant_type=password&username=..&password=..&service=..&scope=..)

Replies {"token": JWT, "access_token": JWT, "expires_in": N, "issued_at": ISO8601}.

Auth policy:
  * request WITH credentials (Basic header, or POST username/password): must equal
    --user/--password, else 401; granted = requested actions.
  * request WITHOUT credentials: granted = requested actions intersected with
    --anonymous-actions (default "pull"); pass --anonymous-actions "" to answer 401.

JWT is signed with the openssl CLI (subprocess), RS256 for an RSA key, ES256
for a P-256 key (DER ECDSA signature converted to raw r||s).  The header
carries either `x5c` (base64 DER of --cert; must chain to the registry's
rootcertbundle) or, with --kid-mode libtrust, a libtrust `kid` (then --cert
itself must be IN the rootcertbundle).

Every request is appended as one JSON line to --log (if given) and printed to
stderr: method, path, query, whether an Authorization header came in, the
authenticated user, and the granted access.

On start it prints "LISTENING <port>" to stdout (flush) and, if --port-file is
given, writes the port there (after the socket is bound), so --port 0 is race-free.
"""
import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def run_openssl(args, data=None) -> bytes:
    return subprocess.run(["openssl"] + args, input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def der_ecdsa_to_raw(der: bytes, size: int = 32) -> bytes:
    """ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r||s (fixed width)."""
    def read_len(buf, i):
        n = buf[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        return n, i

    if der[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    _, i = read_len(der, 1)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER INTEGER")
        n, i = read_len(der, i + 1)
        v = int.from_bytes(der[i:i + n], "big")
        i += n
        out += v.to_bytes(size, "big")
    return out


def libtrust_kid(spki_der: bytes) -> str:
    """libtrust KeyID: base32(sha256(SPKI DER)[:30]) in 12 groups of 4 joined by ':'."""
    s = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode("ascii")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


class Signer:
    def __init__(self, key_path, cert_path, kid_mode):
        self.key_path = key_path
        text = run_openssl(["pkey", "-in", key_path, "-noout", "-text"]).decode(errors="replace")
        if "ASN1 OID: prime256v1" in text or "NIST CURVE: P-256" in text:
            self.alg = "ES256"
        elif "Private-Key:" in text and ("modulus" in text.lower()):
            self.alg = "RS256"
        else:
            raise SystemExit("unsupported key type (use RSA or EC P-256): " + key_path)
        self.header = {"typ": "JWT", "alg": self.alg}
        if kid_mode == "libtrust":
            spki = run_openssl(["pkey", "-in", key_path, "-pubout", "-outform", "DER"])
            self.header["kid"] = libtrust_kid(spki)
        else:
            der = run_openssl(["x509", "-in", cert_path, "-outform", "DER"])
            self.header["x5c"] = [base64.b64encode(der).decode("ascii")]

    def sign(self, claims: dict) -> str:
        signing_input = (b64url(json.dumps(self.header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = run_openssl(["dgst", "-sha256", "-sign", self.key_path], signing_input.encode())
        if self.alg == "ES256":
            sig = der_ecdsa_to_raw(sig)
        return signing_input + "." + b64url(sig)


def parse_scopes(values):
    """['repository:a/b:pull,push', ...] -> [{'type','name','actions'}]"""
    out = []
    for v in values:
        for item in v.split(" "):  # some clients space-join scopes
            if not item:
                continue
            parts = item.split(":")
            if len(parts) < 3:
                continue
            typ, actions = parts[0], parts[-1]
            name = ":".join(parts[1:-1])
            out.append({"type": typ, "name": name,
                        "actions": [a for a in actions.split(",") if a]})
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-token-server/1"
    cfg = None  # set in main

    def log_message(self, fmt, *args):  # keep stderr quiet; we log ourselves
        pass

    def _record(self, rec):
        line = json.dumps(rec, sort_keys=True)
        print("token-server: " + line, file=sys.stderr, flush=True)
        if self.cfg.log:
            with self.cfg.lock, open(self.cfg.log, "a") as f:
                f.write(line + "\n")

    def _reply(self, code, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _basic_creds(self):
        h = self.headers.get("Authorization")
        if not h:
            return None, False
        if not h.lower().startswith("basic "):
            return ("", ""), True
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except Exception:
            return ("", ""), True
        return (user, pw), True

    def _issue(self, params, creds, had_auth_header):
        cfg = self.cfg
        service = (params.get("service") or [cfg.service])[0]
        requested = parse_scopes(params.get("scope", []))
        shown = {k: (["***"] if k == "password" else v) for k, v in params.items()}
        rec = {"method": self.command, "path": self.path.split("?")[0],
               "query": shown, "auth_header": had_auth_header,
               "user": creds[0] if creds else None}
        if creds is not None:
            if creds != (cfg.user, cfg.password):
                rec["result"] = 401
                self._record(rec)
                self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                            [("WWW-Authenticate", 'Basic realm="token"')])
                return
            access = requested
            subject = cfg.user
        else:
            if cfg.anonymous_actions is None:
                rec["result"] = 401
                self._record(rec)
                self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "credentials required"}]},
                            [("WWW-Authenticate", 'Basic realm="token"')])
                return
            access = [{"type": a["type"], "name": a["name"],
                       "actions": [x for x in a["actions"] if x in cfg.anonymous_actions]}
                      for a in requested]
            subject = ""
        now = int(time.time())
        claims = {"iss": cfg.issuer, "sub": subject, "aud": service,
                  "exp": now + cfg.expires_in, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        token = cfg.signer.sign(claims)
        rec["result"] = 200
        rec["access"] = access
        self._record(rec)
        issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._reply(200, {"token": token, "access_token": token,
                          "expires_in": cfg.expires_in, "issued_at": issued})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != self.cfg.path:
            self._record({"method": "GET", "path": u.path, "result": 404,
                          "auth_header": "Authorization" in self.headers})
            self._reply(404, {"error": "not found"})
            return
        params = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        creds, had = self._basic_creds()
        self._issue(params, creds, had)

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        if u.path != self.cfg.path:
            self._reply(404, {"error": "not found"})
            return
        params = urllib.parse.parse_qs(body, keep_blank_values=True)
        creds, had = self._basic_creds()
        if creds is None and "username" in params:
            creds = (params["username"][0], (params.get("password") or [""])[0])
        self._issue(params, creds, had)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--path", default="/token")
    ap.add_argument("--key", required=True, help="signing key PEM (RSA -> RS256, EC P-256 -> ES256)")
    ap.add_argument("--cert", help="signing cert PEM (needed for x5c mode)")
    ap.add_argument("--kid-mode", choices=["x5c", "libtrust"], default="x5c")
    ap.add_argument("--issuer", default="test-issuer")
    ap.add_argument("--service", default="test-registry", help="default aud if the request has no service=")
    ap.add_argument("--user", default="testuser")
    ap.add_argument("--password", default="testpass")
    ap.add_argument("--anonymous-actions", default="pull",
                    help="comma list granted to requests without credentials; '' = 401 them")
    ap.add_argument("--expires-in", type=int, default=300)
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--tls-cert", help="serve HTTPS with this cert (PEM)")
    ap.add_argument("--tls-key")
    cfg = ap.parse_args()
    if cfg.kid_mode == "x5c" and not cfg.cert:
        ap.error("--cert is required with --kid-mode x5c")
    cfg.anonymous_actions = (None if cfg.anonymous_actions == ""
                             else [a for a in cfg.anonymous_actions.split(",") if a])
    cfg.signer = Signer(cfg.key, cfg.cert, cfg.kid_mode)
    cfg.lock = threading.Lock()
    Handler.cfg = cfg

    srv = http.server.ThreadingHTTPServer((cfg.host, cfg.port), Handler)
    srv.daemon_threads = True
    if cfg.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if cfg.port_file:
        tmp = cfg.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, cfg.port_file)
    print("LISTENING %d" % port, flush=True)

    import signal
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    srv.server_close()


if __name__ == "__main__":
    main()

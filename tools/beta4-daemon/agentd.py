#!/usr/bin/env python3
"""A stand-in for wazuh-agentd and the agent queue, for running the real beta4 wazuh-modulesd.

Serves, under HOME:
  queue/sockets/agent  agentd's request socket (stream; each message a 4-byte little-endian
                       length then the bytes, as OS_SendSecureTCP frames them). Answers
                       `getstartupgate` with `ok {"ready":true}`, `getdoclimits syscollector`
                       with `ok LIMITS` (--limits, a JSON object such as {"packages":1}),
                       anything else with `err unknown command`. Every request is logged.
  queue/sockets/queue  the agent queue (datagram). Every message `Q:LOCATION:PAYLOAD` is
                       recorded (OUT/mq.jsonl: queue char, location, payload size, and for
                       JSON payloads the payload, for binary ones its hex) and, with
                       --manager SOCK, forwarded to the reference manager as one frame
                       (4-byte big-endian length, queue char, location length, location,
                       payload: see the README's "Reference manager").
The manager's replies (frames with a location) are handed to the daemon the way agentd does:
`LOCATION_sync PAYLOAD` on queue/sockets/wmodules (OS_SendSecureTCP framing).

With --metadata-lib LIB, first fills the agent metadata shared-memory file
HOME/var/run/.wazuh_agent_metadata through LIB's metadata_provider_update (agent 042,
e2e-agent, groups default,e2e, cluster wazuh/node01 where the layout has them), standing in
for the C++ libagent_info.so that this check does not build. --metadata-layout beta4 (the
real beta4 libagent_metadata.so built by build.sh: agent_metadata_t with cluster_name and
cluster_node) or alpha0 (c_tests/metadata_provider.c, alpha0's struct).

Stops on SIGTERM/SIGINT and writes OUT/summary.json (message counts by queue and kind).
"""
import argparse
import base64
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time

stop = threading.Event()
lock = threading.Lock()
counts = {}
requests = []


def count(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_agent(path, limits, log):
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o660)
    srv.listen(16)
    srv.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        with conn:
            conn.settimeout(5)
            try:
                hdr = recv_exact(conn, 4)
                if hdr is None:
                    continue
                (n,) = struct.unpack("<I", hdr)
                req = recv_exact(conn, n) or b""
            except OSError:
                continue
            text = req.decode("utf-8", "replace")
            if text == "getstartupgate":
                answer = 'ok {"ready":true}'
            elif text == "getdoclimits syscollector":
                answer = "ok " + limits
            else:
                answer = "err unknown command"
            with lock:
                requests.append({"t": round(time.time(), 3), "request": text, "answer": answer})
            count("agentd " + text.split(" ")[0])
            log.write(f"{time.strftime('%H:%M:%S')} agentd: {text!r} -> {answer!r}\n")
            log.flush()
            data = answer.encode()
            try:
                conn.sendall(struct.pack("<I", len(data)) + data)
            except OSError:
                pass
    srv.close()


# Members of union MessageType in inventorySync.fbs (beta4's order; DataBatch is beta4's).
MESSAGE_TYPES = ["NONE", "DataValue", "DataClean", "ChecksumModule", "Start", "StartAck", "End",
                 "EndAck", "ReqRet", "DataContext", "DataBatch"]


def message_type(buf):
    """The union type of a FlatBuffers Message (root table, field 0), or None if malformed."""
    try:
        (root,) = struct.unpack_from("<I", buf, 0)
        (soff,) = struct.unpack_from("<i", buf, root)
        vt = root - soff
        (vtsize,) = struct.unpack_from("<H", buf, vt)
        if vtsize < 6:
            return "NONE"
        (foff,) = struct.unpack_from("<H", buf, vt + 4)
        if foff == 0:
            return "NONE"
        t = buf[root + foff]
        return MESSAGE_TYPES[t] if t < len(MESSAGE_TYPES) else f"type{t}"
    except (struct.error, IndexError):
        return None


def classify(q, location, payload):
    if payload[:1] == b"{":
        try:
            doc = json.loads(payload.rstrip(b"\0"))
            kind = doc.get("type") or ("stateless" if "collector" in doc else "json")
            return f"{q}:{location} json {kind}", doc
        except ValueError:
            return f"{q}:{location} text", None
    kind = message_type(payload)
    return f"{q}:{location} " + (f"flatbuffers {kind}" if kind else "binary"), None


def to_daemon(home, location, payload, log):
    msg = location.encode() + b"_sync " + payload
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(os.path.join(home, "queue/sockets/wmodules"))
        s.sendall(struct.pack("<I", len(msg)) + msg)
        count(f"reply {location}")
    except OSError as e:
        log.write(f"reply to daemon failed: {e}\n")
    finally:
        s.close()


def manager_reader(msock, home, log):
    while not stop.is_set():
        try:
            hdr = recv_exact(msock, 4)
        except socket.timeout:
            continue
        except OSError:
            return
        if hdr is None:
            return
        (n,) = struct.unpack(">I", hdr)
        body = recv_exact(msock, n)
        if body is None or n < 2:
            return
        llen = body[1]
        location = body[2 : 2 + llen].decode("utf-8", "replace")
        to_daemon(home, location, body[2 + llen :], log)


def write_metadata(lib_path, home, layout):
    import ctypes

    F = ctypes.c_char * 256

    names = ["agent_id", "agent_name", "agent_version", "architecture", "hostname", "os_name",
             "os_type", "os_platform", "os_version"]
    if layout == "beta4":
        names += ["cluster_name", "cluster_node"]

    class Meta(ctypes.Structure):
        _fields_ = [(n, F) for n in names]
        _fields_ += [("groups", ctypes.POINTER(ctypes.c_char_p)), ("groups_count", ctypes.c_size_t)]

    values = {"agent_id": "042", "agent_name": "e2e-agent", "agent_version": "v5.0.0",
              "architecture": "x86_64", "hostname": "e2e-host", "os_name": "Debian GNU/Linux",
              "os_type": "linux", "os_platform": "debian", "os_version": "12",
              "cluster_name": "wazuh", "cluster_node": "node01"}
    m = Meta()
    for k in names:
        setattr(m, k, values[k].encode())
    groups = (ctypes.c_char_p * 2)(b"default", b"e2e")
    m.groups = ctypes.cast(groups, ctypes.POINTER(ctypes.c_char_p))
    m.groups_count = 2
    os.makedirs(os.path.join(home, "var/run"), exist_ok=True)
    cwd = os.getcwd()
    os.chdir(home)
    try:
        rc = ctypes.CDLL(lib_path).metadata_provider_update(ctypes.byref(m))
    finally:
        os.chdir(cwd)
    if rc != 0:
        raise SystemExit(f"metadata_provider_update answered {rc}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limits", default="{}", help="JSON object: short index name -> limit")
    ap.add_argument("--manager", help="the reference manager's socket (serve --socket)")
    ap.add_argument("--metadata-lib", help="metadata provider library to fill the shm file")
    ap.add_argument("--metadata-layout", choices=("beta4", "alpha0"), default="beta4")
    a = ap.parse_args()
    if a.metadata_lib:
        write_metadata(os.path.abspath(a.metadata_lib), a.home, a.metadata_layout)
    json.loads(a.limits)
    os.makedirs(a.out, exist_ok=True)
    sockets = os.path.join(a.home, "queue/sockets")
    os.makedirs(sockets, exist_ok=True)
    log = open(os.path.join(a.out, "agentd.log"), "a", buffering=1)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    msock = None
    if a.manager:
        msock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        msock.connect(a.manager)
        msock.settimeout(0.2)
        threading.Thread(target=manager_reader, args=(msock, a.home, log), daemon=True).start()

    agent = threading.Thread(target=serve_agent, args=(os.path.join(sockets, "agent"), a.limits, log))
    agent.start()

    qpath = os.path.join(sockets, "queue")
    if os.path.exists(qpath):
        os.unlink(qpath)
    q = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    q.bind(qpath)
    os.chmod(qpath, 0o660)
    q.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    q.settimeout(0.2)
    mq = open(os.path.join(a.out, "mq.jsonl"), "a", buffering=1)
    while not stop.is_set():
        try:
            data = q.recv(1 << 20)
        except socket.timeout:
            continue
        parts = data.split(b":", 2)
        if len(parts) < 3 or len(parts[0]) != 1:
            count("malformed")
            mq.write(json.dumps({"malformed": base64.b64encode(data).decode()}) + "\n")
            continue
        qc, location, payload = parts[0].decode(), parts[1].decode("utf-8", "replace"), parts[2]
        key, doc = classify(qc, location, payload)
        count(key)
        rec = {"t": round(time.time(), 3), "q": qc, "location": location, "size": len(payload)}
        if doc is not None:
            rec["json"] = doc
        else:
            rec["hex"] = payload.hex()
        mq.write(json.dumps(rec) + "\n")
        if msock is not None:
            loc = location.encode()
            body = qc.encode() + bytes([len(loc)]) + loc + payload
            try:
                msock.sendall(struct.pack(">I", len(body)) + body)
            except OSError as e:
                log.write(f"forward to manager failed: {e}\n")
    agent.join()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"counts": counts, "agentd_requests": requests}, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

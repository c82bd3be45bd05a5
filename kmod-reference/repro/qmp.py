"""What the QEMU runners share (repro/run.py for the hazard modes, and
scripts/fixtures/arm64/boot-dump.py for the arm64 fixtures): timestamped log
lines, a minimal QMP client over QEMU's unix socket, and reading a serial log
that QEMU may still be writing."""
import json
import socket
import time


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class QMP:
    """QMP (QEMU Machine Protocol): greeting, qmp_capabilities, then one
    command at a time; asynchronous events between replies are skipped."""

    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP connection closed")
            resp = json.loads(line)
            if "event" in resp:
                continue
            if "error" in resp:
                raise RuntimeError(f"QMP {name}: {resp['error']}")
            return resp.get("return")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def read(path):
    """The file's text so far ('' before it exists), undecodable bytes replaced."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""

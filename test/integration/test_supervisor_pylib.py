# test_supervisor_pylib.py: shared by the Python integration tests of the supervisor
# (imported, not a test: not executable). Supervisor runs `ringcast` on a config in a temp dir
# with a unique shm prefix, optionally with fake children (test_supervisor_fakechild.py), and
# cleans up its process group, temp dir and shm objects even when the test fails.
import json, os, re, shutil, signal, subprocess, sys, tempfile, time

BIN, TOP = os.environ.get("RINGCAST_BIN"), os.environ.get("RINGCAST_TOP")
if not BIN or not TOP:
    sys.exit("FAIL: set RINGCAST_BIN (the built programs) and RINGCAST_TOP (the repository root)")


def test_ports(pid=None):
    """(http, udp_base, metrics): a slot of the assigned ranges (HTTP 19000-49, UDP 19050-99,
    metrics 19100-49) picked by pid, so that two suite runs at once rarely collide."""
    slot = (pid or os.getpid()) % 16
    return 19000 + slot, 19050 + 3 * slot, 19100 + slot


def wait_for(cond, what, seconds):
    """Polls cond (bounded) until it returns something true, and returns that. The state
    tested lives in the control segment or a log, so there is no event to await."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            v = cond()
        except (OSError, ValueError, KeyError, IndexError):
            v = None
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s" % (seconds, what))


class Supervisor:
    def __init__(self, name, fake_children):
        self.tmp = tempfile.mkdtemp(prefix="rct-%s." % name)
        self.prefix = "rct-%s-%d" % (name, os.getpid())
        self.sock = os.path.join(self.tmp, "ctl.sock")
        self.conf = os.path.join(self.tmp, "ringcast.conf")
        self.log_path = os.path.join(self.tmp, "supervisor.log")
        self.env = dict(os.environ)
        self.proc = None
        if fake_children:
            os.mkdir(os.path.join(self.tmp, "children"))
            for b in ("ringcast-ingest", "ringcast-egress"):
                p = os.path.join(self.tmp, "children", b)
                with open(p, "w") as f:
                    f.write('#!/bin/sh\nexec /usr/bin/python3 %s/test/integration/'
                            'test_supervisor_fakechild.py "$@"\n' % TOP)
                os.chmod(p, 0o755)
            self.env["RINGCAST_CHILD_DIR"] = os.path.join(self.tmp, "children")

    def write_conf(self, server, paths):
        """server: dict of [server] keys (socket and prefix added); paths: {name: source}, or
        {name: {key: value}} for more keys of a path than its source."""
        keys = dict(server, control_socket=self.sock, shm_prefix=self.prefix)
        with open(self.conf, "w") as f:
            f.write("[server]\n" + "".join("%s = %s\n" % kv for kv in keys.items()))
            for name, keys in paths.items():
                keys = keys if isinstance(keys, dict) else {"source": keys}
                f.write("[path %s]\n" % name + "".join("%s = %s\n" % kv for kv in keys.items()))

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([os.path.join(BIN, "ringcast"), "-c", self.conf],
                                     stdout=self.log, stderr=self.log, env=self.env,
                                     start_new_session=True)

    def ctl(self, *args):
        return subprocess.run([os.path.join(BIN, "ringcastctl"), "-s", self.sock] + list(args),
                              capture_output=True, text=True, timeout=10)

    def status(self):
        r = self.ctl("status", "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_running(self, n, seconds):
        def running():
            s = self.status()
            return s if s and sum(c["state"] == "running"
                                  for c in s["paths"] + s["workers"]) == n else None
        return wait_for(running, "%d children running" % n, seconds)

    def log_len(self):
        with open(self.log_path) as f:
            return len(f.read().splitlines())

    def log_match(self, pattern, after=0):
        """The first log line after line `after` matching pattern, as a match object."""
        with open(self.log_path) as f:
            for line in f.read().splitlines()[after:]:
                m = re.search(pattern, line)
                if m:
                    return m
        return None

    def stop(self):
        """SIGTERM; the supervisor must exit 0 within 6 s. Returns its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=6)

    def cleanup(self, failed):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if failed and os.path.exists(self.log_path):
            with open(self.log_path) as f:
                sys.stdout.write("---- supervisor log\n" + "".join(f.readlines()[-60:]))
        shutil.rmtree(self.tmp, ignore_errors=True)
        for n in os.listdir("/dev/shm"):
            if n.startswith(self.prefix + "."):
                os.unlink("/dev/shm/" + n)

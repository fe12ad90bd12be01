# test_supervisor_fakechild.py: a stand-in ringcast-ingest / ringcast-egress for the process
# manager tests (not a test itself: not executable). It speaks the process contract only:
# -c FILE, --path NAME | --index I, --ctl-slot N; writes its pid and a heartbeat every
# 500 ms into its slot of /<shm_prefix>.ctl, exits 0 on SIGTERM, re-reads nothing on SIGHUP
# but counts it (ingest: source_reconnects, egress: plis) so tests can see the forward.
# An ingest creates /dev/shm/<prefix>.<path> like a ring would; one whose path starts with
# "crash" exits 3 at once (backoff tests). Like the real children it refuses an invalid
# config file (checked with `ringcast --check`, exit 2). FAKE_IGNORE_TERM=1: ignores SIGTERM.
# A worker hands over as the real one does: --handover PID sends SIGUSR2 to PID (its
# predecessor) and takes over its pretend viewers; SIGUSR2 makes it exit 0. While the file
# $FAKE_HANDOVER_FAIL names exists, a worker given --handover exits 3 at once instead (a
# successor that dies before it is up: a failed handover).
import mmap, os, re, signal, struct, subprocess, sys, time

CHILDREN_OFF = 128
PID_OFF, HB_OFF, COUNTERS_OFF = 12, 96, 104
VIEWERS, PLIS, RECONNECTS, SESSIONS = 0, 48, 88, 104  # offsets in struct ctl_counters

args = sys.argv[1:]
opt = {args[i]: args[i + 1] for i in range(0, len(args) - 1, 2)}
prefix = "ringcast"
if "-c" in opt:
    check = subprocess.run([os.path.join(os.environ["RINGCAST_BIN"], "ringcast"), "--check",
                            "-c", opt["-c"]], capture_output=True, text=True)
    if check.returncode != 0:
        sys.stderr.write("fake child: bad config: " + check.stderr)
        sys.exit(2)
    m = re.search(r"^\s*shm_prefix\s*=\s*(\S+)", open(opt["-c"]).read(), re.M)
    if m:
        prefix = m.group(1)
slot = int(opt["--ctl-slot"])
fd = os.open("/dev/shm/%s.ctl" % prefix, os.O_RDWR)
shm = mmap.mmap(fd, 0)
# The slot size follows from the header (size, n_children), so counters added to struct
# ctl_counters do not move this stand-in's slots away from the supervisor's.
hdr_size, n_children = struct.unpack_from("<I", shm, 12)[0], struct.unpack_from("<I", shm, 20)[0]
base = CHILDREN_OFF + slot * ((hdr_size - CHILDREN_OFF) // n_children)


def put(off, fmt, v):
    struct.pack_into(fmt, shm, base + off, v)


def get(off, fmt):
    return struct.unpack_from(fmt, shm, base + off)[0]


put(PID_OFF, "<i", os.getpid())
HUP_COUNTER = COUNTERS_OFF + (PLIS if "--index" in opt else RECONNECTS)
hups = 0


def on_hup(*_):
    global hups
    hups += 1
    put(HUP_COUNTER, "<Q", hups)


if "--path" in opt:
    if opt["--path"].startswith("crash"):
        sys.exit(3)
    open("/dev/shm/%s.%s" % (prefix, opt["--path"]), "a").close()


signal.signal(signal.SIGHUP, on_hup)
if os.environ.get("FAKE_IGNORE_TERM") == "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGUSR2, lambda *_: sys.exit(0))
if "--index" in opt:  # an egress worker with a few pretend viewers
    put(COUNTERS_OFF + VIEWERS, "<Q", 3)
    fails = os.environ.get("FAKE_HANDOVER_FAIL")
    if "--handover" in opt and fails and os.path.exists(fails):
        sys.exit(3)
    if "--handover" in opt:  # adopted: no new sessions
        os.kill(int(opt["--handover"]), signal.SIGUSR2)
    else:
        put(COUNTERS_OFF + SESSIONS, "<Q", get(COUNTERS_OFF + SESSIONS, "<Q") + 3)
while True:
    put(HB_OFF, "<Q", time.clock_gettime_ns(time.CLOCK_MONOTONIC))
    time.sleep(0.5)

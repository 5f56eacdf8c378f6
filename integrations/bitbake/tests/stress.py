"""Stress: many holder processes acquire and release overlapping shared mounts through the real
mountkeeper.bbclass, while holders are SIGKILLed at random and, optionally, the daemon itself is
SIGKILLed and restarted. Every holder checks that what it holds is mounted while it holds it.

At the end: no reference and no mount may remain, no holder may have seen its mount missing, and
every request must have succeeded. Prints FIGURE lines; exits 1 if an invariant broke.

    stress.py --socket S --dir D [--workers 16] [--cycles 1000] [--holder-kills-every MS]
              [--daemon JSON_ARGV --daemon-log FILE --daemon-kills 50]
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import bbharness  # noqa: E402

CLASS = os.path.join(HERE, "..", "classes", "mountkeeper.bbclass")
CONTEXT = "stress"


def specs_for(d):
    t = os.path.join(d, "t")
    src = os.path.join(d, "src")
    return ["tmpfs::%s/a" % t, "tmpfs::%s/b" % t, "proc::%s/p" % t, "bind:%s:%s/s" % (src, t),
            "tmpfs::%s/c:size=1m" % t, "rbind:%s:%s/r" % (src, t)]


def target_of(spec):
    return spec.split(":")[2]


def worker(bk, slot, start, cycles, dirs, stop_file, seed):
    """One holder process: cycles until it has done its share and the stress says stop."""
    rng = random.Random(seed * 1000003 + slot * 7919 + os.getpid())
    specs = specs_for(dirs)
    acquire, release = bk.namespace["mountkeeper_acquire"], bk.namespace["mountkeeper_release"]
    progress = os.open(os.path.join(dirs, "progress", str(slot)), os.O_WRONLY | os.O_CREAT, 0o644)
    done = start
    while done < cycles or not os.path.exists(stop_file):
        mine = rng.sample(specs, rng.randint(1, 3))
        try:
            acquire(bk.d, mine)
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            note(dirs, "errors", "pid %d acquire %s: %s" % (os.getpid(), mine, e))
            continue
        for _ in range(rng.randint(1, 3)):
            mp = bbharness.mountpoints()
            for s in mine:
                if target_of(s) not in mp:
                    note(dirs, "violations", "pid %d holds %s but it is not mounted" % (os.getpid(), target_of(s)))
            if "bind:" in mine[0] and not os.path.exists(os.path.join(target_of(mine[0]), "marker")):
                note(dirs, "violations", "pid %d holds %s but its content is missing" % (os.getpid(), target_of(mine[0])))
            time.sleep(rng.random() * 0.002)
        try:
            release(bk.d, mine)
        except Exception as e:  # noqa: BLE001
            note(dirs, "errors", "pid %d release %s: %s" % (os.getpid(), mine, e))
            continue
        done += 1
        os.pwrite(progress, b"%-12d" % done, 0)
    os._exit(0)


def note(d, kind, line):
    with open(os.path.join(d, kind), "a") as f:
        f.write(line + "\n")


def read_progress(d, slot):
    try:
        with open(os.path.join(d, "progress", str(slot))) as f:
            return int(f.read().strip() or 0)
    except FileNotFoundError:
        return 0


def lines(d, kind):
    p = os.path.join(d, kind)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return f.read().splitlines()


class Daemon:
    def __init__(self, argv, log, socket):
        self.argv, self.log, self.socket, self.proc, self.kills = argv, log, socket, None, 0

    def start(self, bk):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log)
        bk.namespace["mountkeeper_call"](bk.d, "GET", "/v1/version")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--holder-kills-every", type=float, default=150, help="mean ms between holder SIGKILLs")
    ap.add_argument("--daemon", help="JSON argv to start the daemon; the stress then kills and restarts it")
    ap.add_argument("--daemon-log")
    ap.add_argument("--daemon-kills", type=int, default=0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()

    d = a.dir
    for sub in ("t/a", "t/b", "t/p", "t/s", "t/c", "t/r", "src", "progress"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    open(os.path.join(d, "src", "marker"), "w").close()
    stop_file = os.path.join(d, "stop")
    bk = bbharness.BitBake({"TMPDIR": d, "MOUNTKEEPER_SOCKET": a.socket, "MOUNTKEEPER_CONTEXT": CONTEXT,
                            "MOUNTKEEPER_WAIT": "120", "BUILDNAME": "stress"})
    bk.inherit(CLASS)
    bk.finalize()
    rng = random.Random(a.seed)
    daemon = Daemon(json.loads(a.daemon), a.daemon_log, a.socket) if a.daemon else None
    if daemon:
        daemon.start(bk)

    def spawn(slot):
        start = read_progress(d, slot)
        pid = os.fork()
        if pid == 0:
            try:
                worker(bk, slot, start, a.cycles, d, stop_file, a.seed)
            finally:
                os._exit(3)
        return pid

    began = time.monotonic()
    running = {slot: spawn(slot) for slot in range(a.workers)}
    holder_kills = 0
    next_holder_kill = time.monotonic() + rng.expovariate(1000.0 / a.holder_kills_every)
    next_daemon_kill = time.monotonic() + rng.uniform(0.3, 1.5)
    bad_exits = []
    while running:
        now = time.monotonic()
        for slot, pid in list(running.items()):
            got, status = os.waitpid(pid, os.WNOHANG)
            if got:
                code = os.waitstatus_to_exitcode(status)
                if code == 0:
                    del running[slot]
                elif code == -signal.SIGKILL:
                    running[slot] = spawn(slot)
                else:
                    bad_exits.append("slot %d pid %d exited %d" % (slot, pid, code))
                    del running[slot]
        all_done = all(read_progress(d, s) >= a.cycles for s in range(a.workers))
        daemon_done = not daemon or daemon.kills >= a.daemon_kills
        if all_done and daemon_done and not os.path.exists(stop_file):
            open(stop_file, "w").close()
        if now >= next_holder_kill and running and not all_done:
            slot = rng.choice(list(running))
            os.kill(running[slot], signal.SIGKILL)  # reaped and replaced on the next turn
            holder_kills += 1
            next_holder_kill = now + rng.expovariate(1000.0 / a.holder_kills_every)
        if daemon and not daemon_done and now >= next_daemon_kill:
            daemon.kill()
            daemon.start(bk)
            next_daemon_kill = time.monotonic() + rng.uniform(0.3, 1.5)
        time.sleep(0.005)
    elapsed = time.monotonic() - began

    # Every holder has ended: the daemon must let go of everything, by release or by pidfd.
    call = bk.namespace["mountkeeper_call"]
    deadline = time.monotonic() + 60
    while True:
        status = call(bk.d, "GET", "/v1/status?context=" + CONTEXT)
        refs = sum(len(t.get("holders", [])) for c in status["contexts"] for t in c["targets"])
        targets = sum(len(c["targets"]) for c in status["contexts"])
        left = sorted(m for m in bbharness.mountpoints() if m.startswith(os.path.join(d, "t") + "/"))
        if (refs == 0 and targets == 0 and not left) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if daemon:
        daemon.stop()

    cycles = sum(read_progress(d, s) for s in range(a.workers))
    violations, errors = lines(d, "violations"), lines(d, "errors")
    print("FIGURE stress: %d holders x >=%d cycles = %d acquire/release cycles in %.1f s (%.0f cycles/s), "
          "%d holders SIGKILLed, %d daemon SIGKILLs and restarts, seed %d"
          % (a.workers, a.cycles, cycles, elapsed, cycles / elapsed, holder_kills, daemon.kills if daemon else 0, a.seed))
    print("FIGURE stress: %d times a holder saw its mount missing, %d failed requests, %d references and %d mounts left"
          % (len(violations), len(errors), refs, len(left)))
    for line in (violations + errors + bad_exits)[:20]:
        print("  " + line)
    ok = not violations and not errors and not bad_exits and refs == 0 and targets == 0 and not left
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

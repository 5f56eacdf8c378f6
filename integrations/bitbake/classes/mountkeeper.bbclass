# mountkeeper.bbclass: mounts that tasks share, reference-counted by the mountkeeper daemon.
#
#   INHERIT += "mountkeeper"
#       in local.conf, or "inherit mountkeeper" in a recipe or class
#
#   do_rootfs[mounts] = "proc::${ROOTFSDIR}/proc rbind:/sys:${ROOTFSDIR}/sys bind:${DL_DIR}:${ROOTFSDIR}/downloads"
#       Mount specs, TYPE:SOURCE:DEST[:OPTIONS], as "mountkeeper acquire" takes them; Isar's
#       cmd:src:dest entries (bind, rbind, pbind, proc) are specs already. Each is mounted unless
#       some task holds it already, in order, before the task runs; after the task its references
#       are released, and the last holder's release unmounts, last mounted first.
#   do_task[mounts-noauto] = "1"
#       No automatic acquire and release: call mountkeeper_acquire(d) and mountkeeper_release(d)
#       (optionally with a list of specs) when the task wants them.
#
# BitBake empties a task's [cleandirs] with rm -rf when the task body starts, after its prefuncs
# have mounted, and rm -rf goes through mounts: a [mounts] target inside one of the task's
# [cleandirs] is refused at parse time (use [mounts-noauto] and acquire after the clean). Before
# a task's [cleandirs] are emptied, and before do_clean, do_cleansstate, do_cleanall and rm_work
# delete ${WORKDIR}, the task fails if anything is mounted below what would be deleted. The
# task's [dirs] are created before its mounts are acquired (BitBake would create them later).
#
# References belong to the task's process (BitBake forks one per task). The daemon releases them
# when that process ends, however it ends: a failed task skips its postfuncs, and a SIGKILLed one
# runs nothing at all. The TaskFailed handler below only makes the release prompt. The context is
# swept (everything left unmounted) when a build starts and when it ends, once per build however
# many multiconfigs ask. Talks HTTP to the daemon's socket with the Python standard library only.

MOUNTKEEPER_SOCKET ??= "/run/mountkeeper/daemon.sock"
MOUNTKEEPER_CONTEXT ??= "${TMPDIR}"
# Seconds to keep trying while the daemon's socket is missing or refuses connections (a daemon
# restarted without systemd's socket activation, say); 0: fail at once, saying what to check.
MOUNTKEEPER_WAIT ??= "0"
# "1": sweep the context (unmount what no live task holds) once when a build first acquires, and
# at its end if it acquired anything; "0": never.
MOUNTKEEPER_SWEEP ??= "1"

# None of these may change a task's signature: the build's name and the machine's socket and wait
# differ from one build or machine to the next, and a changed basehash fails the build.
mountkeeper_call[vardepsexclude] = "MOUNTKEEPER_SOCKET MOUNTKEEPER_WAIT"
mountkeeper_holder[vardepsexclude] = "BUILDNAME"
mountkeeper_specs[vardepsexclude] = "BB_CURRENTTASK"
mountkeeper_acquire[vardepsexclude] = "MOUNTKEEPER_CONTEXT MOUNTKEEPER_SWEEP"
mountkeeper_acquired_marker[vardepsexclude] = "TMPDIR BUILDNAME"
mountkeeper_release[vardepsexclude] = "MOUNTKEEPER_CONTEXT"
mountkeeper_sweep[vardepsexclude] = "MOUNTKEEPER_CONTEXT BUILDNAME MOUNTKEEPER_SWEEP TMPDIR"
mountkeeper_prefunc[vardepsexclude] = "BB_CURRENTTASK"
mountkeeper_guard_deletes[vardepsexclude] = "BB_CURRENTTASK"

def mountkeeper_fail(fatal, message):
    """Fails the task with one line (fatal=True); or, where the daemon cleans up without us, warns
    (False) or notes ("note") it and goes on."""
    if fatal is True:
        bb.fatal(message)
    (bb.note if fatal == "note" else bb.warn)(message)
    return None

def mountkeeper_call(d, method, path, body=None, fatal=True):
    """One request to the daemon; returns the decoded JSON answer, or fails the task with the daemon's reason
    (with fatal=False: warns, and returns None)."""
    import http.client, json, os, socket, time

    class UnixConnection(http.client.HTTPConnection):
        def __init__(self, path, timeout):
            super().__init__("mountkeeper", timeout=timeout)
            self.socket_path = path

        def connect(self):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(self.socket_path)
            except OSError:
                s.close()
                raise
            self.sock = s

    sock = d.getVar('MOUNTKEEPER_SOCKET')
    deadline = time.monotonic() + (float(d.getVar('MOUNTKEEPER_WAIT') or 0) if fatal is True else 0)
    payload = json.dumps(body).encode() if body is not None else None
    hint = ("is the daemon running? (systemctl status mountkeeper.socket mountkeeper.service; "
            "MOUNTKEEPER_SOCKET names another socket, MOUNTKEEPER_WAIT waits for it)")
    # One connection per process and socket, kept alive between requests (a task acquires and
    # releases on one). Keyed by pid: a task forked from a process that had one must not share it.
    conns = globals().setdefault('mountkeeper_connections', {})
    key = (os.getpid(), sock)
    said = False
    while True:
        conn = conns.pop(key, None)
        reused = conn is not None
        if conn is None:
            conn = UnixConnection(sock, 600)
        try:
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            r = conn.getresponse()
            status, data = r.status, r.read()
            if r.will_close:
                conn.close()
            else:
                conns[key] = conn
            break
        except PermissionError:
            conn.close()
            return mountkeeper_fail(fatal, "mountkeeper: the daemon's socket %s is not writable for uid %d; the socket "
                                    "unit's SocketMode or SocketGroup decides who may use it" % (sock, os.getuid()))
        except (FileNotFoundError, ConnectionRefusedError) as e:
            conn.close()
            # No daemon at that socket (yet): fail at once, unless told to wait for a restart.
            if time.monotonic() >= deadline:
                return mountkeeper_fail(fatal, "mountkeeper: cannot reach the daemon at %s: %s; %s" % (sock, e.strerror or e, hint))
            if not said:
                bb.note("mountkeeper: waiting up to %ss for the daemon at %s (%s)" % (d.getVar('MOUNTKEEPER_WAIT'), sock, e.strerror or e))
                said = True
            time.sleep(0.1)
        except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError) as e:
            conn.close()
            if reused:
                continue  # the daemon closed a kept connection (idle, or restarted): a new one at once
            # The daemon went away mid-request (it restarts). Requests are idempotent per holder.
            if time.monotonic() >= deadline + 10:
                return mountkeeper_fail(fatal, "mountkeeper: the daemon at %s keeps dropping the connection: %s" % (sock, e))
            time.sleep(0.1)
        except OSError as e:
            conn.close()
            return mountkeeper_fail(fatal, "mountkeeper: cannot connect to the daemon at %s: %s" % (sock, e.strerror or e))
    try:
        answer = json.loads(data.decode() or "{}")
    except ValueError:
        answer = {"error": data.decode(errors="replace")}
    if status != 200:
        return mountkeeper_fail(fatal, "mountkeeper: %s %s: %s (HTTP %d)" % (method, path, answer.get("error", answer), status))
    return answer

def mountkeeper_specs(d, task=None):
    task = task or d.getVar('BB_CURRENTTASK') or ''
    if not task.startswith('do_'):
        task = 'do_' + task
    return (d.getVarFlag(task, 'mounts') or '').split()

def mountkeeper_split_spec(spec):
    """A spec's fields, TYPE, SOURCE, DEST[, OPTIONS], with \\: and \\\\ read as ':' and '\\'."""
    fields, cur, i = [], '', 0
    while i < len(spec):
        if spec[i] == '\\' and i + 1 < len(spec):
            cur += spec[i + 1]
            i += 2
            continue
        if spec[i] == ':':
            fields.append(cur)
            cur = ''
        else:
            cur += spec[i]
        i += 1
    return fields + [cur]

def mountkeeper_below(path, top):
    """Whether path is top or lies in it, symlinks resolved (the mount table speaks of real paths)."""
    import os
    path, top = os.path.realpath(path), os.path.realpath(top)
    return path == top or path.startswith(top.rstrip('/') + '/')

def mountkeeper_check_cleandirs(d, task):
    """At parse time: BitBake empties [cleandirs] after the prefuncs mounted; nothing there may be a mount's."""
    cleandirs = (d.getVarFlag(task, 'cleandirs') or '').split()
    for spec in mountkeeper_specs(d, task):
        fields = mountkeeper_split_spec(spec)
        if len(fields) < 3:
            continue  # the daemon says what is wrong with it
        for c in cleandirs:
            if mountkeeper_below(fields[2], c) or mountkeeper_below(c, fields[2]):
                bb.fatal("mountkeeper: %s: the [mounts] target %s and %s, one of the task's [cleandirs], overlap: "
                         "BitBake empties %s with rm -rf after the prefuncs have mounted, and would delete through "
                         "the mount (a bind's source included). Set %s[mounts-noauto] = \"1\" and call "
                         "mountkeeper_acquire(d) in the task body, after the clean" % (task, fields[2], c, c, task))

def mountkeeper_mountpoints():
    """Mount points from the kernel's table, unescaped as the kernel escapes them (\\NNN octal), any encoding."""
    import os, re
    with open('/proc/self/mountinfo', 'rb') as f:
        return [os.fsdecode(re.sub(rb'\\([0-7]{3})', lambda m: bytes([int(m.group(1), 8)]), l.split()[4])) for l in f]

def mountkeeper_deleted_dirs(d, task):
    """What BitBake deletes when this task starts: its [cleandirs]; ${WORKDIR} for the clean tasks and rm_work."""
    dirs = (d.getVarFlag(task, 'cleandirs') or '').split()
    if task in ('do_clean', 'do_cleansstate', 'do_cleanall', 'do_rm_work', 'do_rm_work_all'):
        dirs.append(d.getVar('WORKDIR') or '')
    return [x for x in dirs if x]

def mountkeeper_guard_deletes(d, task=None):
    """Fails the task if anything is mounted below what it is about to delete: rm -rf would go through it."""
    import os
    task = task or 'do_' + (d.getVar('BB_CURRENTTASK') or '')
    dirs = mountkeeper_deleted_dirs(d, task)
    if not dirs:
        return
    points = mountkeeper_mountpoints()
    for top in dirs:
        real = os.path.realpath(top)
        inside = sorted(p for p in points if mountkeeper_below(p, real) and p != real)
        if inside:
            bb.fatal("mountkeeper: %s would delete %s, but %s %s mounted below it (rm -rf would delete through "
                     "them); release them first (mountkeeper status; mountkeeper release or sweep)"
                     % (task, top, ", ".join(inside), "is" if len(inside) == 1 else "are"))

def mountkeeper_holder(d):
    import os
    return {"pid": os.getpid(), "build_id": d.getVar('BUILDNAME') or ''}

def mountkeeper_acquired_marker(d):
    import os
    return os.path.join(d.getVar('TMPDIR'), '.mountkeeper-acquired-' + (d.getVar('BUILDNAME') or ''))

def mountkeeper_acquire(d, specs=None, task=None):
    import os
    specs = mountkeeper_specs(d, task) if specs is None else list(specs)
    if not specs:
        return None
    marker = mountkeeper_acquired_marker(d)
    if d.getVar('MOUNTKEEPER_SWEEP') == '1' and not os.path.exists(marker):
        # The build's first acquire sweeps what an earlier build left (once, whoever comes first:
        # tasks that start together may all ask, and the daemon sweeps once); the marker saves
        # later tasks the request, and tells BuildCompleted that this build has something to sweep.
        mountkeeper_sweep(d, 'start')
        open(marker, 'a').close()
    # Set first: if the answer is lost, the task may still hold something, and a failure releases it.
    d.setVar('MOUNTKEEPER_ACQUIRED_IN_TASK', '1')
    answer = mountkeeper_call(d, 'POST', '/v1/acquire', {
        "context": d.getVar('MOUNTKEEPER_CONTEXT'), "holder": mountkeeper_holder(d), "specs": specs})
    for a in answer.get("actions", []):
        bb.debug(1, "mountkeeper: " + a)
    return answer

def mountkeeper_release(d, specs=None, task=None, all=False, fatal=True):
    body = {"context": d.getVar('MOUNTKEEPER_CONTEXT'), "holder": mountkeeper_holder(d)}
    if all:
        body["all"] = True
    else:
        specs = mountkeeper_specs(d, task) if specs is None else list(specs)
        if not specs:
            return None
        body["specs"] = specs
    answer = mountkeeper_call(d, 'POST', '/v1/release', body, fatal)
    if answer is None:
        return None
    for a in answer.get("actions", []):
        bb.debug(1, "mountkeeper: " + a)
    return answer

def mountkeeper_sweep(d, phase, fatal=True):
    context = d.getVar('MOUNTKEEPER_CONTEXT')
    # One sweep per build and phase, however many multiconfigs fire the event.
    once = "%s|%s|%s" % (context, d.getVar('BUILDNAME') or '', phase)
    answer = mountkeeper_call(d, 'POST', '/v1/sweep', {"context": context, "once": once}, fatal)
    if answer is None:
        return None
    if answer.get("skipped"):
        bb.debug(1, "mountkeeper: %s sweep of %s done already" % (phase, context))
    else:
        bb.note("mountkeeper: %s sweep of %s: %s" % (phase, context, "; ".join(answer.get("actions", [])) or "nothing left"))
    return answer

python mountkeeper_prefunc() {
    # BitBake would make [dirs] only when the task body starts; a target or source may be one.
    for x in (d.getVarFlag('do_' + d.getVar('BB_CURRENTTASK'), 'dirs') or '').split():
        bb.utils.mkdirhier(x)
    mountkeeper_acquire(d)
}

python mountkeeper_guard_prefunc() {
    mountkeeper_guard_deletes(d)
}

python mountkeeper_postfunc() {
    # The task's work is done: if the daemon is away now, it releases this process's references when it ends.
    mountkeeper_release(d, fatal=False)
}

addhandler mountkeeper_eventhandler
mountkeeper_eventhandler[eventmask] = "bb.event.BuildCompleted bb.build.TaskFailed bb.build.TaskFailedSilent"
python mountkeeper_eventhandler() {
    import os
    d = e.data
    if isinstance(e, (bb.build.TaskFailed, bb.build.TaskFailedSilent)):
        # Postfuncs were skipped; the daemon would release when this process ends anyway, so a
        # failure here only warns (the task's own error stays the one that counts).
        if d.getVar('MOUNTKEEPER_ACQUIRED_IN_TASK') == '1':
            mountkeeper_release(d, all=True, fatal=False)
    elif d.getVar('MOUNTKEEPER_SWEEP') == '1':
        # Only a build that acquired contacts the daemon at its end: one without [mounts] never does.
        marker = mountkeeper_acquired_marker(d)
        if os.path.exists(marker):
            # The tasks have said it already if the daemon went away: here it is only noted.
            mountkeeper_sweep(d, 'end', fatal="note")
            try:
                os.unlink(marker)
            except FileNotFoundError:
                pass  # another multiconfig's handler took it
}

python __anonymous() {
    for task in (d.getVar('__BBTASKS', False) or []):
        # What the class adds to a task is not part of its signature: with or without the class, or
        # with another version of it, a task's output and its sstate are the same.
        if mountkeeper_deleted_dirs(d, task):
            d.prependVarFlag(task, 'prefuncs', 'mountkeeper_guard_prefunc ')
            d.appendVarFlag(task, 'vardepsexclude', ' mountkeeper_guard_prefunc')
        if d.getVarFlag(task, 'mounts') and d.getVarFlag(task, 'mounts-noauto') != '1':
            mountkeeper_check_cleandirs(d, task)
            d.prependVarFlag(task, 'prefuncs', 'mountkeeper_prefunc ')
            d.appendVarFlag(task, 'postfuncs', ' mountkeeper_postfunc')
            d.appendVarFlag(task, 'vardepsexclude', ' mountkeeper_prefunc mountkeeper_postfunc')
        elif d.getVarFlag(task, 'mounts'):
            # [mounts-noauto]: the task body calls these itself.
            d.appendVarFlag(task, 'vardepsexclude', ' mountkeeper_acquire mountkeeper_release')
}

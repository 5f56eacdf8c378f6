# mountkeeper.bbclass: mounts that tasks share, reference-counted by the mountkeeper daemon.
#
#   INHERIT += "mountkeeper"        (local.conf), or "inherit mountkeeper" in a recipe or class
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
# References belong to the task's process (BitBake forks one per task). The daemon releases them
# when that process ends, however it ends: a failed task skips its postfuncs, and a SIGKILLed one
# runs nothing at all. The TaskFailed handler below only makes the release prompt. The context is
# swept (everything left unmounted) when a build starts and when it ends, once per build however
# many multiconfigs ask. Talks HTTP to the daemon's socket with the Python standard library only.

MOUNTKEEPER_SOCKET ??= "/run/mountkeeper/daemon.sock"
MOUNTKEEPER_CONTEXT ??= "${TMPDIR}"
# Seconds to keep trying while the daemon is unreachable (restarting, say).
MOUNTKEEPER_WAIT ??= "60"
MOUNTKEEPER_SWEEP ??= "1"

def mountkeeper_call(d, method, path, body=None):
    """One request to the daemon; returns the decoded JSON answer, or fails the task with the daemon's reason."""
    import http.client, json, socket, time

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
    deadline = time.monotonic() + float(d.getVar('MOUNTKEEPER_WAIT') or 60)
    payload = json.dumps(body).encode() if body is not None else None
    while True:
        conn = UnixConnection(sock, 600)
        try:
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            r = conn.getresponse()
            status, data = r.status, r.read()
            break
        except (ConnectionError, FileNotFoundError, http.client.RemoteDisconnected, BrokenPipeError) as e:
            # The daemon is away (restarting, say). Requests are idempotent per holder: retrying is safe.
            if time.monotonic() > deadline:
                bb.fatal("mountkeeper: cannot reach the daemon at %s: %s" % (sock, e))
            time.sleep(0.1)
        finally:
            conn.close()
    try:
        answer = json.loads(data.decode() or "{}")
    except ValueError:
        answer = {"error": data.decode(errors="replace")}
    if status != 200:
        bb.fatal("mountkeeper: %s %s: %s (HTTP %d)" % (method, path, answer.get("error", answer), status))
    return answer

def mountkeeper_specs(d, task=None):
    task = task or d.getVar('BB_CURRENTTASK') or ''
    if not task.startswith('do_'):
        task = 'do_' + task
    return (d.getVarFlag(task, 'mounts') or '').split()

def mountkeeper_holder(d):
    import os
    return {"pid": os.getpid(), "build_id": d.getVar('BUILDNAME') or ''}

def mountkeeper_acquire(d, specs=None, task=None):
    specs = mountkeeper_specs(d, task) if specs is None else list(specs)
    if not specs:
        return None
    answer = mountkeeper_call(d, 'POST', '/v1/acquire', {
        "context": d.getVar('MOUNTKEEPER_CONTEXT'), "holder": mountkeeper_holder(d), "specs": specs})
    for a in answer.get("actions", []):
        bb.debug(1, "mountkeeper: " + a)
    return answer

def mountkeeper_release(d, specs=None, task=None, all=False):
    body = {"context": d.getVar('MOUNTKEEPER_CONTEXT'), "holder": mountkeeper_holder(d)}
    if all:
        body["all"] = True
    else:
        specs = mountkeeper_specs(d, task) if specs is None else list(specs)
        if not specs:
            return None
        body["specs"] = specs
    answer = mountkeeper_call(d, 'POST', '/v1/release', body)
    for a in answer.get("actions", []):
        bb.debug(1, "mountkeeper: " + a)
    return answer

def mountkeeper_sweep(d, phase):
    context = d.getVar('MOUNTKEEPER_CONTEXT')
    # One sweep per build and phase, however many multiconfigs fire the event.
    once = "%s|%s|%s" % (context, d.getVar('BUILDNAME') or '', phase)
    answer = mountkeeper_call(d, 'POST', '/v1/sweep', {"context": context, "once": once})
    if answer.get("skipped"):
        bb.debug(1, "mountkeeper: %s sweep of %s done already" % (phase, context))
    else:
        bb.note("mountkeeper: %s sweep of %s: %s" % (phase, context, "; ".join(answer.get("actions", [])) or "nothing left"))
    return answer

python mountkeeper_prefunc() {
    mountkeeper_acquire(d)
}

python mountkeeper_postfunc() {
    mountkeeper_release(d)
}

addhandler mountkeeper_eventhandler
mountkeeper_eventhandler[eventmask] = "bb.event.BuildStarted bb.event.BuildCompleted bb.build.TaskFailed"
python mountkeeper_eventhandler() {
    d = e.data
    if isinstance(e, bb.build.TaskFailed):
        # Postfuncs were skipped; the daemon would release when this process ends anyway.
        if d.getVarFlag(e.task, 'mounts'):
            mountkeeper_release(d, all=True)
    elif d.getVar('MOUNTKEEPER_SWEEP') == '1':
        mountkeeper_sweep(d, 'start' if isinstance(e, bb.event.BuildStarted) else 'end')
}

python __anonymous() {
    for task in (d.getVar('__BBTASKS', False) or []):
        if d.getVarFlag(task, 'mounts') and d.getVarFlag(task, 'mounts-noauto') != '1':
            d.prependVarFlag(task, 'prefuncs', 'mountkeeper_prefunc ')
            d.appendVarFlag(task, 'postfuncs', ' mountkeeper_postfunc')
}

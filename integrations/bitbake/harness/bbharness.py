"""A small stand-in for BitBake, enough to run a real .bbclass the way BitBake does.

It parses the class (assignments with =, ?=, ??=, flags, def functions, python functions,
addhandler, anonymous python), keeps a datastore with ${VAR} expansion, and runs tasks with
BitBake's semantics: each task in its own forked process (setsid), prefuncs, then the task, then
postfuncs, which are skipped when the task fails; TaskStarted, TaskSucceeded and TaskFailed are
fired in the task's process, where class event handlers run; SIGTERM makes the task fail (its
handlers run), SIGKILL runs nothing. BuildStarted and BuildCompleted are fired per multiconfig.

Two behaviours of real BitBake (lib/bb/build.py, bb/siggen.py) that a class can get wrong:
- exec_func empties a function's [cleandirs] (rm -rf, which goes through mounts) and makes its
  [dirs] when that function runs: for the task's own flags, after the prefuncs.
- The worker computes each task's basehash again, with BUILDNAME (and the rest of the build's
  variables) set, and fails the build ("the basehash value changed") if it differs from the one
  computed at parse time. A basehash covers the task's functions and prefuncs/postfuncs, the
  functions they call and the variables they read with d.getVar, less [vardepsexclude].
"""

import hashlib

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import types

_VAR = re.compile(r"\$\{([A-Za-z0-9_\-:.]+)\}")


class DataSmart:
    """The datastore: variables, flags, expansion."""

    def __init__(self):
        self.vars = {}
        self.flags = {}

    def setVar(self, name, value):
        self.vars[name] = value

    def getVar(self, name, expand=True):
        v = self.vars.get(name)
        return self.expand(v) if expand and isinstance(v, str) else v

    def setVarFlag(self, name, flag, value):
        self.flags.setdefault(name, {})[flag] = value

    def getVarFlag(self, name, flag, expand=True):
        v = self.flags.get(name, {}).get(flag)
        return self.expand(v) if expand and isinstance(v, str) else v

    def appendVarFlag(self, name, flag, value):
        self.setVarFlag(name, flag, (self.getVarFlag(name, flag, False) or "") + value)

    def prependVarFlag(self, name, flag, value):
        self.setVarFlag(name, flag, value + (self.getVarFlag(name, flag, False) or ""))

    def expand(self, s):
        for _ in range(20):
            t = _VAR.sub(lambda m: str(self.getVar(m.group(1), False)) if m.group(1) in self.vars else m.group(0), s)
            if t == s:
                return t
            s = t
        return s

    def createCopy(self):
        c = DataSmart()
        c.vars = dict(self.vars)
        c.flags = {k: dict(v) for k, v in self.flags.items()}
        return c


class BBHandledException(Exception):
    """bb.fatal's exception: the message was logged already."""


def _bb_module(log):
    bb = types.ModuleType("bb")

    def fatal(*msg):
        log.append(("fatal", " ".join(str(m) for m in msg)))
        raise BBHandledException(" ".join(str(m) for m in msg))

    bb.note = lambda *m: log.append(("note", " ".join(str(x) for x in m)))
    bb.warn = lambda *m: log.append(("warn", " ".join(str(x) for x in m)))
    bb.error = lambda *m: log.append(("error", " ".join(str(x) for x in m)))
    bb.debug = lambda lvl, *m: log.append(("debug", " ".join(str(x) for x in m)))
    bb.fatal = fatal
    bb.BBHandledException = BBHandledException
    utils = types.ModuleType("bb.utils")
    utils.mkdirhier = lambda p: os.makedirs(p, exist_ok=True)
    # As bb.utils.remove(path, recurse=True): rm -rf, which deletes through any mount below.
    utils.remove = lambda p, recurse=False: subprocess.check_call(["rm", "-rf" if recurse else "-f", p])
    bb.utils = utils
    event = types.ModuleType("bb.event")
    build = types.ModuleType("bb.build")

    class Event:
        def __init__(self, data=None):
            self.data = data

    class BuildStarted(Event):
        pass

    class BuildCompleted(Event):
        pass

    class TaskBase(Event):
        def __init__(self, task, data=None):
            super().__init__(data)
            self.task = task

    class TaskStarted(TaskBase):
        pass

    class TaskSucceeded(TaskBase):
        pass

    class TaskFailed(TaskBase):
        pass

    class TaskFailedSilent(TaskBase):
        pass

    event.Event, event.BuildStarted, event.BuildCompleted = Event, BuildStarted, BuildCompleted
    build.TaskStarted, build.TaskSucceeded, build.TaskFailed = TaskStarted, TaskSucceeded, TaskFailed
    build.TaskFailedSilent = TaskFailedSilent
    bb.event, bb.build = event, build
    return bb


class BitBake:
    """One configuration (multiconfig) with the classes it inherits and the tasks it runs."""

    def __init__(self, variables=None, log_file=None):
        self.d = DataSmart()
        for k, v in (variables or {}).items():
            self.d.setVar(k, v)
        self.log = []
        self.log_file = log_file
        self.bb = _bb_module(self.log)
        sys.modules.setdefault("bb", self.bb)
        self.namespace = {"bb": self.bb, "os": os}
        self.pyfuncs = {}
        self.sources = {}  # function name -> its text, for signatures
        self.basehashes = {}
        self.handlers = []
        self.anonymous = []
        self.d.setVar("__BBTASKS", [])

    # -- parsing -------------------------------------------------------------------------------
    def inherit(self, path):
        with open(path) as f:
            lines = f.read().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            s = line.strip()
            if not s or s.startswith("#"):
                i += 1
                continue
            if line.startswith("def "):
                j = i + 1
                while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t"):
                    j += 1
                exec(compile("\n".join(lines[i:j]), path, "exec"), self.namespace)
                self.sources[re.match(r"def\s+([A-Za-z0-9_]+)", line).group(1)] = "\n".join(lines[i:j])
                i = j
                continue
            m = re.match(r"python\s*([A-Za-z0-9_]*)\s*\(\)\s*\{\s*$", line)
            if m:
                j = i + 1
                while lines[j].rstrip() != "}":
                    j += 1
                body = textwrap.dedent("\n".join(lines[i + 1:j]))
                name = m.group(1)
                if name in ("", "__anonymous"):
                    self.anonymous.append(body)
                else:
                    self.pyfuncs[name] = compile(body, "%s:%s" % (path, name), "exec")
                    self.sources[name] = body
                i = j + 1
                continue
            m = re.match(r"addhandler\s+(\S+)$", s)
            if m:
                self.handlers.append(m.group(1))
                i += 1
                continue
            m = re.match(r'([A-Za-z0-9_\-]+)(?:\[([A-Za-z0-9_\-]+)\])?\s*(\?\?=|\?=|=)\s*"(.*)"$', s)
            if m:
                name, flag, op, value = m.groups()
                if flag:
                    self.d.setVarFlag(name, flag, value)
                elif op == "=" or self.d.getVar(name, False) is None:
                    self.d.setVar(name, value)
                i += 1
                continue
            raise SyntaxError("%s:%d: cannot parse %r" % (path, i + 1, line))

    def add_task(self, name, func, **flags):
        """A task: a Python callable taking d. Flags such as mounts="..." or mounts_noauto="1"."""
        self.d.getVar("__BBTASKS", False).append(name)
        self.namespace[name] = func
        for k, v in flags.items():
            self.d.setVarFlag(name, k.replace("_", "-"), v)

    def finalize(self):
        for body in self.anonymous:
            exec(compile(body, "anonymous", "exec"), dict(self.namespace, d=self.d))
        self.parse_signatures()

    def parse_signatures(self):
        """Each task's basehash as the parse computes it: the build's own variables (BUILDNAME, DATETIME) unset."""
        parse = self.d.createCopy()
        for v in ("BUILDNAME", "DATETIME"):
            parse.vars.pop(v, None)
        for task in self.d.getVar("__BBTASKS", False):
            self.basehashes[task] = self.basehash(task, parse)

    def basehash(self, task, d):
        """What the task's signature covers, as bb.siggen does: functions, what they call and read."""
        h = hashlib.sha256()
        todo = [task] + (d.getVarFlag(task, "prefuncs", False) or "").split() + (d.getVarFlag(task, "postfuncs", False) or "").split()
        todo = [f for f in todo if f == task or f not in (d.getVarFlag(task, "vardepsexclude", False) or "").split()]
        seen = set()
        while todo:
            f = todo.pop()
            if f in seen:
                continue
            seen.add(f)
            text = self.sources.get(f, "")
            h.update(("%s=%s\n" % (f, text)).encode())
            excluded = set((d.getVarFlag(f, "vardepsexclude", False) or "").split())
            for v in sorted(set(re.findall(r"""d\.getVar(?:Flag)?\(\s*['"]([A-Za-z0-9_\-]+)['"]""", text)) - excluded):
                h.update(("%s=%r\n" % (v, d.getVar(v))).encode())
            todo.extend(n for n in self.sources if n not in seen and re.search(r"\b%s\(" % re.escape(n), text))
        return h.hexdigest()
    # -- running -------------------------------------------------------------------------------
    def exec_func(self, name, d):
        self._record("func " + name)
        for c in (d.getVarFlag(name, "cleandirs") or "").split():
            self.bb.utils.remove(c, True)
            self.bb.utils.mkdirhier(c)
        for x in (d.getVarFlag(name, "dirs") or "").split():
            self.bb.utils.mkdirhier(x)
        if name in self.pyfuncs:
            exec(self.pyfuncs[name], dict(self.namespace, d=d))
        else:
            self.namespace[name](d)

    def fire(self, event, d):
        event.data = d
        for h in self.handlers:
            mask = (d.getVarFlag(h, "eventmask") or "").split()
            cls = type(event)
            names = {"bb.event." + cls.__name__, "bb.build." + cls.__name__}
            if mask and not names & set(mask):
                continue
            exec(self.pyfuncs[h], dict(self.namespace, e=event, d=d))

    def start_task(self, task):
        """Forks the task's process, as bitbake-worker does; returns its pid."""
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:
            os.setsid()
            code = self._exec_task(task)
        except BaseException as e:  # noqa: BLE001 - the task process must never return into the caller
            self._record("harness error %r" % (e,))
        finally:
            os._exit(code)

    def _exec_task(self, task):
        d = self.d.createCopy()
        d.setVar("BB_CURRENTTASK", task[3:] if task.startswith("do_") else task)

        def sigterm(signum, frame):
            raise SystemExit("SIGTERM")

        signal.signal(signal.SIGTERM, sigterm)
        if task in self.basehashes and self.basehash(task, d) != self.basehashes[task]:
            self._record("basehash changed %s" % task)
            self.log.append(("error", "%s: the basehash value changed from parse time; the metadata is not deterministic" % task))
            return 1
        self.fire(self.bb.build.TaskStarted(task), d)
        try:
            for f in (d.getVarFlag(task, "prefuncs") or "").split():
                self.exec_func(f, d)
            self.exec_func(task, d)
            for f in (d.getVarFlag(task, "postfuncs") or "").split():
                self.exec_func(f, d)
        except BaseException as e:  # noqa: BLE001 - any failure, SystemExit from SIGTERM included
            self._record("failed %s: %s" % (task, e))
            try:
                self.fire(self.bb.build.TaskFailed(task), d)
            finally:
                return 1
        self.fire(self.bb.build.TaskSucceeded(task), d)
        return 0

    def run_task(self, task, timeout=60):
        """Runs a task to its end; returns its exit status (0 success, 1 failure, -N signal)."""
        pid = self.start_task(task)
        return wait(pid, timeout)

    def _record(self, line):
        if self.log_file:
            with open(self.log_file, "a") as f:
                f.write("%d %s\n" % (os.getpid(), line))


def wait(pid, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise TimeoutError("task %d did not end within %ss" % (pid, timeout))
        time.sleep(0.01)


def mountpoints():
    """Mount points in the calling process's mount namespace, from the kernel's table."""
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            out.add(line.split()[4].replace("\\040", " "))
    return out

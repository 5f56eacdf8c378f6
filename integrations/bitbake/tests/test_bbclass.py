"""The real mountkeeper.bbclass, run by the BitBake stand-in against a real daemon.

Needs MOUNTKEEPER_SOCKET (a running daemon) and MK_TEST_DIR (a scratch directory where the
daemon may mount), and a private mount namespace shared with the daemon.
"""

import json
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "harness"))
import bbharness  # noqa: E402

CLASS = os.path.join(HERE, "..", "classes", "mountkeeper.bbclass")


def wait_until(pred, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class BBClassTest(unittest.TestCase):
    def setUp(self):
        base = os.environ["MK_TEST_DIR"]
        self.dir = os.path.join(base, self.id().rsplit(".", 1)[-1])
        self.rootfs = os.path.join(self.dir, "rootfs")
        for sub in ("proc", "sys", "downloads", "other"):
            os.makedirs(os.path.join(self.rootfs, sub), exist_ok=True)
        self.dl = os.path.join(self.dir, "dl")
        os.makedirs(self.dl, exist_ok=True)
        with open(os.path.join(self.dl, "file.tar"), "w") as f:
            f.write("payload")
        self.log = os.path.join(self.dir, "funcs.log")
        self.context = "ctx-" + self.id().rsplit(".", 1)[-1]
        self.specs = "proc::${ROOTFSDIR}/proc rbind:/sys:${ROOTFSDIR}/sys bind:${DL_DIR}:${ROOTFSDIR}/downloads"

    def tearDown(self):
        self.assertEqual([], self.our_mounts(), "mounts left behind")

    def bitbake(self, mc=""):
        b = bbharness.BitBake({
            "TMPDIR": self.dir, "ROOTFSDIR": self.rootfs, "DL_DIR": self.dl, "BUILDNAME": "20261121101010",
            "MOUNTKEEPER_SOCKET": os.environ["MOUNTKEEPER_SOCKET"], "MOUNTKEEPER_CONTEXT": self.context,
            "BB_CURRENT_MC": mc,
        }, log_file=self.log)
        return b

    def finish(self, b):
        b.inherit(CLASS)
        b.finalize()
        return b

    def our_mounts(self):
        return sorted(m for m in bbharness.mountpoints() if m.startswith(self.dir + "/"))

    def funcs(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log) as f:
            return f.read()

    def status(self):
        b = self.finish(self.bitbake())
        return b.namespace["mountkeeper_call"](b.d, "GET", "/v1/status?context=" + self.context)

    def test_task_has_its_mounts_and_they_go_after_it(self):
        seen = {}

        def do_rootfs(d):
            mp = bbharness.mountpoints()
            seen["proc"] = os.path.join(self.rootfs, "proc") in mp
            seen["sys"] = os.path.join(self.rootfs, "sys") in mp
            seen["dl"] = os.path.exists(os.path.join(self.rootfs, "downloads", "file.tar"))
            with open(os.path.join(self.dir, "seen.json"), "w") as f:
                json.dump(seen, f)

        b = self.bitbake()
        b.add_task("do_rootfs", do_rootfs, mounts=self.specs)
        self.finish(b)
        self.assertEqual(0, b.run_task("do_rootfs"))
        with open(os.path.join(self.dir, "seen.json")) as f:
            self.assertEqual({"proc": True, "sys": True, "dl": True}, json.load(f))
        self.assertIn("func mountkeeper_postfunc", self.funcs())
        self.assertEqual([], self.our_mounts())

    def test_failed_task_skips_postfuncs_and_its_references_still_go(self):
        def do_rootfs(d):
            raise RuntimeError("the task failed")

        b = self.bitbake()
        b.add_task("do_rootfs", do_rootfs, mounts=self.specs)
        self.finish(b)
        self.assertEqual(1, b.run_task("do_rootfs"))
        self.assertIn("func mountkeeper_prefunc", self.funcs())
        self.assertNotIn("func mountkeeper_postfunc", self.funcs())
        wait_until(lambda: self.our_mounts() == [], what="the failed task's mounts to go")
        self.assertEqual([], self.status()["contexts"])

    def holding_task(self):
        """Starts a task that holds its mounts until killed; returns its pid once it holds them."""
        marker = os.path.join(self.dir, "holding")

        def do_rootfs(d):
            open(marker, "w").close()
            time.sleep(600)

        b = self.bitbake()
        b.add_task("do_rootfs", do_rootfs, mounts=self.specs)
        self.finish(b)
        pid = b.start_task("do_rootfs")
        wait_until(lambda: os.path.exists(marker), what="the task to hold its mounts")
        self.assertIn(os.path.join(self.rootfs, "proc"), self.our_mounts())
        return pid

    def test_killed_task_is_released_by_the_daemon(self):
        pid = self.holding_task()
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(-signal.SIGKILL, bbharness.wait(pid))
        self.assertNotIn("failed do_rootfs", self.funcs())  # nothing ran in the task after SIGKILL
        wait_until(lambda: self.our_mounts() == [], what="the killed task's mounts to go")

    def test_sigterm_fails_the_task_and_its_handler_releases(self):
        pid = self.holding_task()
        os.kill(pid, signal.SIGTERM)
        self.assertEqual(1, bbharness.wait(pid))
        self.assertIn("failed do_rootfs: SIGTERM", self.funcs())
        self.assertNotIn("func mountkeeper_postfunc", self.funcs())
        wait_until(lambda: self.our_mounts() == [], what="the terminated task's mounts to go")

    def test_concurrent_tasks_share_and_the_last_one_unmounts(self):
        a_holds, b_holds, a_done = (os.path.join(self.dir, n) for n in ("a-holds", "b-holds", "a-done"))
        proc = os.path.join(self.rootfs, "proc")

        def do_a(d):
            open(a_holds, "w").close()
            wait_until(lambda: os.path.exists(b_holds), what="b")

        def do_b(d):
            open(b_holds, "w").close()
            wait_until(lambda: os.path.exists(a_done), what="a to end")
            # a has ended and released: the mount must still be here for b.
            if proc not in bbharness.mountpoints():
                raise RuntimeError("proc went away while b held it")

        bk = self.bitbake()
        bk.add_task("do_a", do_a, mounts=self.specs)
        bk.add_task("do_b", do_b, mounts=self.specs)
        self.finish(bk)
        pa = bk.start_task("do_a")
        wait_until(lambda: os.path.exists(a_holds), what="a to hold")
        pb = bk.start_task("do_b")
        self.assertEqual(0, bbharness.wait(pa))
        self.assertIn(proc, self.our_mounts())
        open(a_done, "w").close()
        self.assertEqual(0, bbharness.wait(pb))
        self.assertEqual([], self.our_mounts())

    def test_noauto_task_acquires_and_releases_by_hand(self):
        seen = []

        def do_image(d):
            ns = bk.namespace
            seen.append(os.path.join(self.rootfs, "proc") in bbharness.mountpoints())
            ns["mountkeeper_acquire"](d)
            seen.append(os.path.join(self.rootfs, "proc") in bbharness.mountpoints())
            ns["mountkeeper_release"](d)
            seen.append(os.path.join(self.rootfs, "proc") in bbharness.mountpoints())
            if seen != [False, True, False]:
                raise RuntimeError("saw %r" % seen)

        bk = self.bitbake()
        bk.add_task("do_image", do_image, mounts=self.specs, mounts_noauto="1")
        self.finish(bk)
        self.assertEqual(0, bk.run_task("do_image"))
        self.assertNotIn("mountkeeper_prefunc", self.funcs())

    def test_isar_entries_and_pbind(self):
        other = os.path.join(self.rootfs, "other")

        def do_task(d):
            mp = bbharness.mountpoints()
            for p in (os.path.join(self.rootfs, "proc"), os.path.join(self.rootfs, "sys"), other):
                if p not in mp:
                    raise RuntimeError(p + " is not mounted")

        bk = self.bitbake()
        bk.add_task("do_task", do_task, mounts="proc::${ROOTFSDIR}/proc rbind:/sys:${ROOTFSDIR}/sys pbind:${DL_DIR}:" + other)
        self.finish(bk)
        self.assertEqual(0, bk.run_task("do_task"))

    def test_bad_spec_fails_the_task_with_the_reason_and_mounts_nothing(self):
        ran = []
        bk = self.bitbake()
        bk.add_task("do_task", lambda d: ran.append(1), mounts="proc::${ROOTFSDIR}/proc bogus:x:${ROOTFSDIR}/sys")
        self.finish(bk)
        self.assertEqual(1, bk.run_task("do_task"))
        self.assertIn('unknown type "bogus"', self.funcs())
        self.assertEqual([], self.our_mounts())

    def test_sweeps_once_per_build_with_several_multiconfigs(self):
        # A leftover: a holder that outlives the build (a stray daemon of some task).
        stray = os.fork()
        if stray == 0:
            time.sleep(600)
            os._exit(0)
        try:
            first = self.finish(self.bitbake())
            first.namespace["mountkeeper_call"](first.d, "POST", "/v1/acquire", {
                "context": self.context, "holder": {"pid": stray}, "specs": ["proc::" + self.rootfs + "/proc"]})
            self.assertIn(os.path.join(self.rootfs, "proc"), self.our_mounts())
            mcs = [self.finish(self.bitbake(mc)) for mc in ("", "mc1", "mc2")]
            for b in mcs:
                b.fire(b.bb.event.BuildStarted(), b.d)
            self.assertIn(os.path.join(self.rootfs, "proc"), self.our_mounts(), "BuildStarted contacts nobody")
            for b in mcs:  # each multiconfig's first acquire: only the first sweeps
                b.namespace["mountkeeper_acquire"](b.d, specs=["tmpfs::" + self.rootfs + "/other"])
                b.namespace["mountkeeper_release"](b.d, specs=["tmpfs::" + self.rootfs + "/other"])
            notes = [m for b in mcs for kind, m in b.log if kind == "note" and "sweep" in m]
            self.assertEqual(1, len(notes), notes)
            self.assertIn("unmounted " + self.rootfs + "/proc", notes[0])
            self.assertEqual([], self.our_mounts())
            for b in mcs:
                b.fire(b.bb.event.BuildCompleted(), b.d)
            notes = [m for b in mcs for kind, m in b.log if kind == "note" and "end sweep" in m]
            self.assertEqual(1, len(notes), notes)
        finally:
            os.kill(stray, signal.SIGKILL)
            os.waitpid(stray, 0)

    def test_a_build_without_mounts_never_contacts_the_daemon(self):
        b = self.bitbake()
        b.d.setVar("MOUNTKEEPER_SOCKET", os.path.join(self.dir, "no-daemon.sock"))
        b.add_task("do_build", lambda d: None)
        self.finish(b)
        b.fire(b.bb.event.BuildStarted(), b.d)
        self.assertEqual(0, b.run_task("do_build"))
        b.fire(b.bb.event.BuildCompleted(), b.d)
        self.assertEqual([], [m for kind, m in b.log if kind == "fatal"])

    def test_daemon_down_fails_at_once_naming_the_socket_and_the_unit(self):
        b = self.finish(self.bitbake())
        sock = "/tmp/mk-no-daemon-%d.sock" % os.getpid()
        b.d.setVar("MOUNTKEEPER_SOCKET", sock)
        started = time.monotonic()
        with self.assertRaises(b.bb.BBHandledException) as e:
            b.namespace["mountkeeper_acquire"](b.d, specs=["proc::" + self.rootfs + "/proc"])
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("cannot reach the daemon at " + sock, str(e.exception))
        self.assertIn("mountkeeper.socket", str(e.exception))

    def test_a_target_in_the_tasks_cleandirs_is_refused_at_parse_time(self):
        b = self.bitbake()
        b.add_task("do_rootfs", lambda d: None, mounts=self.specs, cleandirs="${ROOTFSDIR}")
        with self.assertRaises(b.bb.BBHandledException) as e:
            self.finish(b)
        self.assertIn("do_rootfs", str(e.exception))
        self.assertIn("[cleandirs]", str(e.exception))
        self.assertIn("do_rootfs[mounts-noauto]", str(e.exception))
        self.assertTrue(os.path.exists(os.path.join(self.dl, "file.tar")))

    def add_holder(self, b):
        """A task that holds a bind of the download cache in the rootfs until the file it returns exists."""
        ready, done = os.path.join(self.dir, "holder-ready"), os.path.join(self.dir, "holder-done")

        def do_holder(d):
            open(ready, "w").close()
            wait_until(lambda: os.path.exists(done), 30, "the cleaner")

        b.add_task("do_holder", do_holder, mounts="bind:${DL_DIR}:${ROOTFSDIR}/downloads")
        return ready, done

    def test_nothing_is_deleted_through_a_mount_another_task_holds(self):
        b = self.bitbake()
        a_ready, a_done = self.add_holder(b)
        b.add_task("do_rootfs", lambda d: None, cleandirs="${ROOTFSDIR}")
        b.add_task("do_clean", lambda d: b.bb.utils.remove(d.getVar("WORKDIR"), True))
        b.d.setVar("WORKDIR", self.rootfs)
        self.finish(b)
        pa = b.start_task("do_holder")
        wait_until(lambda: os.path.exists(a_ready), 15, "the holder")
        self.assertEqual(1, b.run_task("do_rootfs"))
        self.assertEqual(1, b.run_task("do_clean"))
        self.assertTrue(os.path.exists(os.path.join(self.dl, "file.tar")), "the download cache was deleted through the bind")
        open(a_done, "w").close()
        self.assertEqual(0, bbharness.wait(pa))
        self.assertEqual(0, b.run_task("do_rootfs"))  # nothing mounted any more: the clean goes ahead
        self.assertTrue(os.path.exists(os.path.join(self.dl, "file.tar")))

    def test_isar_rootfs_install_cleans_then_acquires_with_noauto(self):
        seen = []

        def do_rootfs_install(d):
            # BitBake has emptied ${ROOTFSDIR} ([cleandirs]); the task makes its tree, then mounts.
            for sub in ("proc", "sys", "downloads"):
                os.makedirs(os.path.join(self.rootfs, sub))
            bk.namespace["mountkeeper_acquire"](d)
            try:
                seen.append(os.path.exists(os.path.join(self.rootfs, "downloads", "file.tar")))
            finally:
                bk.namespace["mountkeeper_release"](d)
            if seen != [True]:
                raise RuntimeError("saw %r" % seen)

        bk = self.bitbake()
        bk.add_task("do_rootfs_install", do_rootfs_install, mounts=self.specs, mounts_noauto="1", cleandirs="${ROOTFSDIR}")
        self.finish(bk)
        self.assertEqual(0, bk.run_task("do_rootfs_install"))
        self.assertTrue(os.path.exists(os.path.join(self.dl, "file.tar")))
        self.assertEqual([], self.our_mounts())

    def test_signatures_do_not_depend_on_the_build_or_the_machine(self):
        b = self.bitbake()
        b.add_task("do_rootfs", lambda d: None, mounts="proc::${ROOTFSDIR}/proc")
        self.finish(b)
        self.assertEqual(0, b.run_task("do_rootfs"))
        self.assertNotIn("basehash changed", self.funcs())
        # The stand-in catches a class that reads BUILDNAME without excluding it.
        c = self.bitbake()
        c.add_task("do_rootfs", lambda d: None, mounts="proc::${ROOTFSDIR}/proc")
        c.inherit(CLASS)
        c.finalize()
        # As a task that calls mountkeeper_acquire(d) itself ([mounts-noauto]) would depend on it.
        c.d.setVarFlag("mountkeeper_holder", "vardepsexclude", "")
        c.d.setVarFlag("do_rootfs", "vardepsexclude", "")
        c.parse_signatures()
        self.assertEqual(1, c.run_task("do_rootfs"))
        self.assertIn("basehash changed do_rootfs", self.funcs())

    def test_a_cleandir_inside_a_bind_target_is_refused_too(self):
        b = self.bitbake()
        b.add_task("do_rootfs", lambda d: None, mounts="bind:${DL_DIR}:${ROOTFSDIR}/downloads",
                   cleandirs="${ROOTFSDIR}/downloads/cache")
        with self.assertRaises(b.bb.BBHandledException) as e:
            self.finish(b)
        self.assertIn("overlap", str(e.exception))

    def test_the_guard_sees_through_a_symlinked_build_directory(self):
        link = os.path.join(self.dir, "link")
        os.symlink(self.dir, link)
        b = self.bitbake()
        a_ready, a_done = self.add_holder(b)
        b.add_task("do_clean", lambda d: b.bb.utils.remove(d.getVar("WORKDIR"), True))
        b.d.setVar("WORKDIR", os.path.join(link, "rootfs"))  # the same place, through a symlink
        self.finish(b)
        pa = b.start_task("do_holder")
        wait_until(lambda: os.path.exists(a_ready), 15, "the holder")
        self.assertEqual(1, b.run_task("do_clean"))
        self.assertTrue(os.path.exists(os.path.join(self.dl, "file.tar")), "deleted through the bind")
        open(a_done, "w").close()
        self.assertEqual(0, bbharness.wait(pa))

    def test_a_failed_task_with_the_daemon_gone_fails_with_its_own_error_only(self):
        def do_rootfs(d):
            d.setVar("MOUNTKEEPER_SOCKET", "/tmp/mk-gone-%d.sock" % os.getpid())  # the daemon went away
            raise RuntimeError("the task's own failure")

        b = self.bitbake()
        b.add_task("do_rootfs", do_rootfs, mounts="proc::${ROOTFSDIR}/proc")
        self.finish(b)
        self.assertEqual(1, b.run_task("do_rootfs"))
        funcs = self.funcs()
        self.assertIn("failed do_rootfs: the task's own failure", funcs)
        self.assertNotIn("harness error", funcs)  # the TaskFailed handler raised nothing
        wait_until(lambda: not self.our_mounts(), what="the daemon to release the ended task's mounts")

    def test_dirs_are_made_before_the_mounts(self):
        made = os.path.join(self.dir, "made-by-dirs")
        b = self.bitbake()
        b.add_task("do_task", lambda d: None, mounts="tmpfs::" + made + "/scratch", dirs=made + "/scratch")
        self.finish(b)
        self.assertEqual(0, b.run_task("do_task"))


if __name__ == "__main__":
    unittest.main()

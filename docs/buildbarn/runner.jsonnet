// mountkeeper bb-runner: a bb_runner configuration, plus mounts. Everything above the mountkeeper
// line is Buildbarn's own bb_runner format and loads unchanged.
{
  buildDirectoryPath: '/worker/build',
  grpcServers: [{
    listenPaths: ['/worker/runner'],
    authenticationPolicy: { allow: {} },
  }],
  global: {
    diagnosticsHttpServer: {
      httpServers: [{ listenAddresses: [':9987'], authenticationPolicy: { allow: {} } }],
      enablePrometheus: true,  // mountkeeper_runner_* metrics on http://runner:9987/metrics
    },
  },
  chrootIntoInputRoot: true,
  setTmpdirEnvironmentVariable: true,  // with the chroot: the action's tmp directory at /tmp, TMPDIR=/tmp
  cleanTemporaryDirectories: [],

  // Upstream's proposed shape (bb-remote-execution pull request 116): fresh proc and read-only sysfs.
  inputRootMounts: [
    { mountpoint: 'proc', source: '/proc', filesystemType: 'proc' },
    { mountpoint: 'sys', source: '/sys', filesystemType: 'sysfs' },
  ],
  // ---- mountkeeper ----
  // Any mount in mountkeeper's spec language, destinations inside the input root. Here: the
  // container's toolchain, read-only, for actions whose input root does not carry one, and a
  // minimal /dev (null, zero, full, random, urandom, tty, shm, pts): without /dev/null a shell
  // cannot even start a background job.
  inputRootMountSpecs: [
    'ro-bind:/usr:/usr',
    'symlink:usr/lib:/lib',
    'symlink:usr/lib64:/lib64',
    'symlink:usr/bin:/bin',
    'dev::/dev',
  ],
  createMountpoints: true,  // else an input root without proc/ and sys/ fails with a clear error
}

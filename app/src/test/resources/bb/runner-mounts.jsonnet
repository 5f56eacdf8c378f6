// The same runner with what mountkeeper adds: a chroot into the input root with /proc and /sys
// (upstream's proposed input_root_mounts), snake_case names, and mountkeeper's spec form.
local base = import 'runner.jsonnet';

base {
  chroot_into_input_root: true,
  input_root_mounts: [
    { mountpoint: 'proc', source: '/proc', filesystem_type: 'proc' },
    { mountpoint: 'sys', source: '/sys', filesystemType: 'sysfs' },
  ],
  input_root_mount_specs: ['ro-bind:/usr:/usr', 'symlink:usr/bin:/bin', 'symlink:usr/lib:/lib',
                           'symlink:usr/lib64:/lib64', 'dev::/dev', 'tmpfs::/tmp:size=64m'],
  create_mountpoints: true,
  clean_process_table: true,
}

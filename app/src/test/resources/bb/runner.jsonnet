// A configuration in the form Buildbarn's examples give bb_runner: nothing mountkeeper-specific.
local common = import 'common.libsonnet';
local os = std.extVar('OS');

{
  buildDirectoryPath: if os == 'Windows' then 'b:\\' else (std.extVar('PWD') + '/worker/build'),
  global: common.globalWithDiagnosticsHttpServer(':' + std.extVar('METRICS_PORT')),
  grpcServers: [{
    listenPaths: ['worker/runner'],
    authenticationPolicy: { allow: {} },
  }],
}

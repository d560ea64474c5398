// Checks the package as users get it: builds and packs it, asserts what the tarball holds, then
// installs the tarball in fresh temporary projects and runs a smoke test of every entry point in
// each. ES module hosts (with the lowest peer versions our ranges admit, with the latest releases
// of those majors, and with today's majors): import, type resolution, one accepted heartbeat, and
// in the Nest 12 host specs under fake timers in Vitest and in Jest's ES module mode. A Nest 11
// CommonJS host laid out as `nest new` makes it (scripts/package-hosts/commonjs): tsc with module
// commonjs, three accepted heartbeats, and a Jest (ts-jest) spec under fake timers. Silent on
// success; on failure it prints what failed with the output of the failing step and exits
// non-zero. One more project compiles and runs the README's TypeScript blocks
// (scripts/check-readme.js). Needs the npm registry.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkReadmeBlocks } from './check-readme.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const HOSTS_DIR = join(import.meta.dirname, 'package-hosts');
const STEP_TIMEOUT_MS = 300_000;
// Installs read the npm cache without asking the registry again for what it already holds: five
// projects install mostly the same packages, and CI runs on a machine that ran the check before.
const INSTALL_FLAGS = ['install', '--loglevel=error', '--prefer-offline'];

/** Files allowed in the tarball besides `dist/`. */
const TOP_LEVEL_FILES = new Set(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']);

/**
 * Peer sets to install beside the tarball: `floor` takes the lowest version each range in
 * package.json admits, `nest11` the latest releases of those lowest majors (both with the
 * optional integrations, to load them), `nest12` today's majors without the optional
 * integrations except terminus, which `./health` needs.
 */
const PEER_SETS = {
  floor: [
    '@nestjs/common@11.0.0',
    '@nestjs/core@11.0.0',
    '@nestjs/schedule@6.0.0',
    '@nestjs/axios@4.0.0',
    '@nestjs/config@4.0.0',
    '@nestjs/terminus@11.0.0',
    '@nestjs/event-emitter@3.0.0',
    '@opentelemetry/api@1.9.0',
    'axios@1.3.1',
    'rxjs@7.1.0',
    'reflect-metadata@0.1.12',
  ],
  nest11: [
    '@nestjs/common@^11',
    '@nestjs/core@^11',
    '@nestjs/schedule@^6',
    '@nestjs/axios@^4',
    '@nestjs/config@^4',
    '@nestjs/terminus@^11',
    '@nestjs/event-emitter@^3',
    '@opentelemetry/api@^1',
    'axios@^1',
    'rxjs@^7',
    'reflect-metadata@^0.1',
  ],
  nest12: [
    '@nestjs/common@^12',
    '@nestjs/core@^12',
    '@nestjs/schedule@^12',
    '@nestjs/axios@^12',
    '@nestjs/config@^12',
    '@nestjs/terminus@^12',
    'axios@^1',
    'rxjs@^7',
    'reflect-metadata@^0.2',
  ],
};

/**
 * What an ES module host adds to run the fake-timer specs of package-hosts/esm, by host: one for
 * Vitest, one for Jest in its ES module mode.
 */
const TEST_RUNNER_TOOLS = { nest12: ['@nestjs/testing@^12', 'vitest@^4', 'jest@^30'] };
const ESM_SPECS = ['heartbeat.spec.ts', 'heartbeat.jest.js'];

/**
 * The CommonJS host: a Nest 11 app with the test setup `nest new` gives it (TypeScript 5, Jest
 * with ts-jest), plus terminus for `./health`.
 */
const COMMONJS_PACKAGES = [
  '@nestjs/common@^11',
  '@nestjs/core@^11',
  '@nestjs/schedule@^6',
  '@nestjs/axios@^4',
  '@nestjs/config@^4',
  '@nestjs/terminus@^11',
  '@nestjs/testing@^11',
  'axios@^1',
  'rxjs@^7',
  'reflect-metadata@^0.2',
  'typescript@^5',
  'jest@^30',
  'ts-jest@^29',
  '@types/jest@^30',
  '@types/node@^20',
];

const COMMONJS_MANIFEST = {
  name: 'check-commonjs',
  private: true,
  type: 'commonjs',
  jest: {
    moduleFileExtensions: ['js', 'json', 'ts'],
    rootDir: 'src',
    testRegex: '.*\\.spec\\.ts$',
    transform: { '^.+\\.(t|j)s$': 'ts-jest' },
    testEnvironment: 'node',
  },
};

// Plain JavaScript has no decorator syntax or metadata here: decorators are applied as functions,
// and the injected providers come from the package, whose compiled classes carry their metadata.
const SMOKE_SCRIPT = `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { HeartbeatModule, HeartbeatScheduler, heartbeatConfig } from 'nestjs-workspace-heartbeat';
import { HeartbeatHealthIndicator } from 'nestjs-workspace-heartbeat/health';
import { PlatformSimulator } from 'nestjs-workspace-heartbeat/testing';

const platform = new PlatformSimulator();
await platform.start();
platform.addWorkspace({ id: '00000000-0000-4000-8000-00000000c0de' });
Object.assign(process.env, {
  PLATFORM_URL: platform.url,
  WORKSPACE_ID: '00000000-0000-4000-8000-00000000c0de',
  CONFIGS_DIR: process.cwd(),
  DELEGATION_RESULTS_FILE: 'results.jsonl',
  HEARTBEAT_INTERVAL_MS: '3600000',
});

class HealthModule {}
Module({ imports: [TerminusModule], providers: [HeartbeatHealthIndicator] })(HealthModule);
class AppModule {}
Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [heartbeatConfig] }),
    ScheduleModule.forRoot(),
    HeartbeatModule.forRootAsync({
      isGlobal: true,
      inject: [heartbeatConfig.KEY],
      useFactory: (config) => config,
    }),
    HealthModule,
  ],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
try {
  const scheduler = app.get(HeartbeatScheduler);
  const deadline = Date.now() + 10_000;
  while (scheduler.stats.accepted === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const health = app.get(HeartbeatHealthIndicator).isHealthy();
  const status = platform.workspace('00000000-0000-4000-8000-00000000c0de')?.status;
  if (scheduler.stats.accepted !== 1 || health.heartbeat.status !== 'up' || status !== 'online') {
    throw new Error(
      'expected one accepted beat: ' +
        JSON.stringify({ stats: scheduler.stats, health, workspace: status }),
    );
  }
} finally {
  await app.close();
  await platform.stop();
}
`;

// Type resolution of every entry point, as a TypeScript user with NodeNext resolution sees them.
const SMOKE_TYPES = `import { type ConfigType } from '@nestjs/config';
import {
  HeartbeatModule,
  type HeartbeatModuleOptions,
  heartbeatConfig,
} from 'nestjs-workspace-heartbeat';
import { HeartbeatHealthIndicator } from 'nestjs-workspace-heartbeat/health';
import { PlatformSimulator, type PlatformFault } from 'nestjs-workspace-heartbeat/testing';

const fromEnv = (config: ConfigType<typeof heartbeatConfig>): HeartbeatModuleOptions => ({
  ...config,
  intervalMs: config.intervalMs * 2,
});
export const heartbeat = HeartbeatModule.forRootAsync({
  inject: [heartbeatConfig.KEY],
  useFactory: fromEnv,
});
export const platform: PlatformSimulator = new PlatformSimulator({ port: 0 });
export const fault: PlatformFault = { status: 503 };
export type HeartbeatStatus = ReturnType<HeartbeatHealthIndicator['isHealthy']>['heartbeat']['status'];
`;

const TSCONFIG = {
  compilerOptions: {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
  },
  files: ['smoke-types.ts'],
};

class CheckFailure extends Error {
  constructor(step, detail) {
    super(`check-package: ${step}${detail ? `\n${detail}` : ''}`);
  }
}

/** Runs a command; a failure carries the command and its output. */
async function step(name, command, args, cwd) {
  try {
    return await run(command, args, {
      cwd,
      timeout: STEP_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
    });
  } catch (error) {
    throw new CheckFailure(
      name,
      `${command} ${args.join(' ')}\n${error.stdout ?? ''}${error.stderr ?? error.message}`,
    );
  }
}

function checkContents(files, manifest) {
  const paths = new Set(files.map((file) => file.path));
  const stray = [...paths].filter(
    (path) => !path.startsWith('dist/') && !TOP_LEVEL_FILES.has(path),
  );
  if (stray.length > 0) throw new CheckFailure('unexpected files in the tarball', stray.join('\n'));
  for (const required of ['package.json', 'README.md', 'CHANGELOG.md']) {
    if (!paths.has(required)) throw new CheckFailure(`${required} is missing from the tarball`);
  }
  const undeclared = [...paths].filter(
    (path) => path.endsWith('.js') && !paths.has(path.replace(/\.js$/, '.d.ts')),
  );
  if (undeclared.length > 0) {
    throw new CheckFailure('JavaScript without type declarations', undeclared.join('\n'));
  }
  for (const [entry, target] of Object.entries(manifest.exports)) {
    for (const file of exportTargets(target).map((path) => path.replace(/^\.\//, ''))) {
      if (!paths.has(file))
        throw new CheckFailure(`export "${entry}" points at ${file}, not packed`);
    }
  }
}

/** Every file an `exports` entry can resolve to, through nested conditions. */
function exportTargets(target) {
  return typeof target === 'string' ? [target] : Object.values(target).flatMap(exportTargets);
}

async function checkInstall(name, peers, tarball, workDir) {
  const project = join(workDir, name);
  await mkdir(project);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: `check-${name}`, private: true, type: 'module' }),
  );
  await writeFile(join(project, 'smoke.js'), SMOKE_SCRIPT);
  await writeFile(join(project, 'smoke-types.ts'), SMOKE_TYPES);
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  const tools = TEST_RUNNER_TOOLS[name] ?? [];
  if (tools.length > 0) {
    for (const spec of ESM_SPECS) await cp(join(HOSTS_DIR, 'esm', spec), join(project, spec));
  }
  await step(
    `${name}: npm install`,
    'npm',
    [...INSTALL_FLAGS, tarball, ...peers, ...tools],
    project,
  );
  await step(`${name}: smoke test`, process.execPath, ['smoke.js'], project);
  await step(
    `${name}: type check`,
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
    project,
  );
  if (tools.length > 0) {
    await step(
      `${name}: vitest, fake timers`,
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run'],
      project,
    );
    await step(
      `${name}: jest (ES module mode), fake timers`,
      process.execPath,
      [
        '--experimental-vm-modules',
        'node_modules/jest/bin/jest.js',
        '--ci',
        '--testRegex',
        'heartbeat\\.jest\\.js$',
      ],
      project,
    );
  }
}

/**
 * The Nest 11 CommonJS host: compiles with its own TypeScript (module commonjs, and a type check
 * with module nodenext), boots and waits for three accepted beats, then runs its Jest spec.
 */
async function checkCommonJsHost(tarball, workDir) {
  const project = join(workDir, 'commonjs');
  await cp(join(HOSTS_DIR, 'commonjs'), project, { recursive: true });
  await writeFile(join(project, 'package.json'), JSON.stringify(COMMONJS_MANIFEST));
  await step(
    'commonjs: npm install',
    'npm',
    [...INSTALL_FLAGS, tarball, ...COMMONJS_PACKAGES],
    project,
  );
  const tsc = join(project, 'node_modules/typescript/bin/tsc');
  await step(
    'commonjs: tsc (module commonjs)',
    process.execPath,
    [tsc, '-p', 'tsconfig.json'],
    project,
  );
  await step(
    'commonjs: type check (module nodenext)',
    process.execPath,
    [tsc, '-p', 'tsconfig.nodenext.json'],
    project,
  );
  await step('commonjs: three accepted beats', process.execPath, ['dist/main.js'], project);
  await step(
    'commonjs: jest (ts-jest), fake timers',
    process.execPath,
    ['node_modules/jest/bin/jest.js', '--ci'],
    project,
  );
}

const workDir = await mkdtemp(join(tmpdir(), 'check-package-'));
try {
  await step('npm run build', 'npm', ['run', 'build', '--silent'], root);
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const { stdout } = await step(
    'npm pack',
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir],
    root,
  );
  const [packed] = JSON.parse(stdout);
  checkContents(packed.files, manifest);
  const tarball = join(workDir, packed.filename);
  const results = await Promise.allSettled([
    ...Object.entries(PEER_SETS).map(([name, peers]) =>
      checkInstall(name, peers, tarball, workDir),
    ),
    checkCommonJsHost(tarball, workDir),
  ]);
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length > 0) {
    throw new CheckFailure('installed package', failures.map((f) => f.reason.message).join('\n\n'));
  }

  // README code: every complete ```ts block compiles against the tarball and the "Testing your
  // host" Jest and Vitest blocks pass (scripts/check-readme.js). A project of its own, after the
  // others.
  await checkReadmeBlocks({ root, tarball, workDir, step });
} catch (error) {
  process.stderr.write(`${error instanceof CheckFailure ? error.message : error.stack}\n`);
  process.exitCode = 1;
} finally {
  await rm(workDir, { recursive: true, force: true });
}

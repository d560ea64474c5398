// The README's TypeScript as a user copies it: every ```ts block (except those marked
// ```ts fragment) becomes a file in a fresh project that installed the packed tarball, and
// `tsc` must compile them all with strict settings. A block marked `file=NAME` is written under
// that name, so blocks can import one another as a host's files do (`./app.module.js`); the
// others get numbered names. The Jest and Vitest blocks of "Testing your host" then run, with
// Jest (ESM mode) and Vitest on the compiled output, in a project whose .env points the host at
// a platform that is not there.
// Used by check-package.js; silent on success.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Packages the README's blocks import besides the tarball. */
export const README_PACKAGES = [
  '@nestjs/common@^12',
  '@nestjs/core@^12',
  '@nestjs/schedule@^12',
  '@nestjs/axios@^12',
  '@nestjs/config@^12',
  '@nestjs/terminus@^12',
  '@nestjs/event-emitter@^12',
  '@nestjs/testing@^12',
  'axios@^1',
  'rxjs@^7',
  'reflect-metadata@^0.2',
  'vitest@^4',
  'jest@^30',
];

/** The README blocks that run as tests; they must exist and be named so. */
const VITEST_BLOCK = 'agent.vitest.spec.ts';
const JEST_BLOCK = 'agent.jest.spec.ts';

/** A .env a developer might have: the test must not use any of it. */
const DEVELOPER_ENV = [
  'PLATFORM_URL=http://127.0.0.1:9',
  'WORKSPACE_ID=ws-from-dotenv',
  'HEARTBEAT_INTERVAL_MS=5',
  'CONFIGS_DIR=/nonexistent/dotenv-configs',
  '',
].join('\n');

/**
 * The ```ts blocks of `markdown`: `{ name, code, fragment }` in order. The info string after
 * `ts` may hold `fragment` and `file=NAME`.
 */
export function typeScriptBlocks(markdown) {
  const blocks = [];
  for (const match of markdown.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const words = match[1].trim().split(/\s+/).filter(Boolean);
    const file = words.find((word) => word.startsWith('file='))?.slice('file='.length);
    blocks.push({
      name: file ?? `readme-block-${blocks.length + 1}.ts`,
      code: match[2],
      fragment: words.includes('fragment'),
    });
  }
  return blocks;
}

/**
 * Writes the README's complete blocks into a fresh project at `workDir/readme` beside the
 * tarball, type-checks and compiles them, and runs the Jest and Vitest blocks. `step(name, command, args,
 * cwd)` runs one command and throws a described failure.
 */
export async function checkReadmeBlocks({ root, tarball, workDir, step }) {
  const project = join(workDir, 'readme');
  await mkdir(project);
  const blocks = typeScriptBlocks(await readFile(join(root, 'README.md'), 'utf8'));
  const complete = blocks.filter((block) => !block.fragment);
  const names = complete.map((block) => block.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new Error(`README: two blocks are named ${duplicate}`);
  for (const test of [JEST_BLOCK, VITEST_BLOCK]) {
    if (!names.includes(test)) throw new Error(`README: no block named ${test}`);
  }
  for (const block of complete) await writeFile(join(project, block.name), block.code);

  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'check-readme', private: true, type: 'module' }),
  );
  await writeFile(join(project, '.env'), DEVELOPER_ENV);
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        outDir: 'build',
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: names,
    }),
  );
  await step(
    'readme: npm install',
    'npm',
    ['install', '--loglevel=error', tarball, ...README_PACKAGES],
    project,
  );
  await step(
    'readme: TypeScript blocks compile',
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
    project,
  );
  await step(
    'readme: the Jest block passes',
    process.execPath,
    [
      '--experimental-vm-modules',
      join(project, 'node_modules/jest/bin/jest.js'),
      '--rootDir',
      'build',
      '--testEnvironment',
      'node',
      '--transform',
      '{}',
      JEST_BLOCK.replace(/\.ts$/, '.js'),
    ],
    project,
  );
  await step(
    'readme: the Vitest block passes',
    process.execPath,
    [
      join(project, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--dir',
      'build',
      VITEST_BLOCK.replace(/\.ts$/, '.js'),
    ],
    project,
  );
}

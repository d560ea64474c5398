import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Runs `script` (an ES module body) in a child process where `missingPackage` cannot be
 * resolved, as if it were not installed; returns the lines it printed.
 */
export async function runWithout(missingPackage: string, script: string): Promise<string[]> {
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier === ${JSON.stringify(missingPackage)} || specifier.startsWith(${JSON.stringify(`${missingPackage}/`)})) {
      throw Object.assign(new Error('not installed: ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return next(specifier, context);
  }`;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '--eval',
    `import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
    ${script}`,
  ]);
  return stdout.trim().split('\n');
}

// Marks a build directory as CommonJS: the package is `"type": "module"`, so Node, TypeScript and
// Jest would otherwise read the `.js` and `.d.ts` files of the CommonJS build as ES modules.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

for (const dir of process.argv.slice(2)) {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
}

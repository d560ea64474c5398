import { type INestApplicationContext, type ModuleMetadata } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { CapturingLogger } from './capturing-logger.js';

type ModuleImport = NonNullable<ModuleMetadata['imports']>[number];

/**
 * Compiles a testing module with `ScheduleModule` and `imports`, hands it to `track` (so the
 * caller closes it even when init fails) and initialises it.
 */
export async function bootTestingModule(
  imports: unknown[],
  track: (app: INestApplicationContext) => void,
): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), ...(imports as ModuleImport[])],
  })
    .setLogger(new CapturingLogger())
    .compile();
  track(moduleRef);
  await moduleRef.init();
  return moduleRef;
}

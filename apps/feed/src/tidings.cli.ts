import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { runTidingsCli } from '@tidings/cli';
import { feedConfigFromEnv } from './config/feed.config.js';
import { FeedAppModule } from './feed-app.module.js';

// The feed service's `tidings` command (`npm run tidings -- projection rebuild feed`): the same module and
// configuration as the service, without consuming, so it runs beside the service.
await runTidingsCli(
  {
    bootstrap: () =>
      NestFactory.createApplicationContext(FeedAppModule.forRoot(feedConfigFromEnv(), { consume: false }), {
        logger: ['error', 'warn', 'log'],
      }),
  },
  process.argv,
);

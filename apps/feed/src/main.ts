import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { feedConfigFromEnv } from './config/feed.config.js';
import { FeedAppModule } from './feed-app.module.js';

const config = feedConfigFromEnv();
const app = await NestFactory.create(FeedAppModule.forRoot(config));
app.enableShutdownHooks();
await app.listen(config.port, '127.0.0.1');
new Logger('Feed').log(`feed service on http://127.0.0.1:${config.port} (schema ${config.schema})`);

import 'reflect-metadata';
import { serveSample } from '../../sample-kit/src/index.js';
import { feedConfigFromEnv } from './config/feed.config.js';
import { FeedAppModule } from './feed-app.module.js';

const config = feedConfigFromEnv();
await serveSample('Feed', FeedAppModule.forRoot(config), config.port, `schema ${config.schema}`);

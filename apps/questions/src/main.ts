import 'reflect-metadata';
import { serveSample } from '../../sample-kit/src/index.js';
import { questionsConfigFromEnv } from './config/questions.config.js';
import { QuestionsAppModule } from './questions-app.module.js';

const config = questionsConfigFromEnv();
await serveSample(
  'Questions',
  QuestionsAppModule.forRoot(config),
  config.port,
  `schema ${config.schema}; commands refused above ${config.maxOutboxBacklog} unpublished events`,
);

import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { questionsConfigFromEnv } from './config/questions.config.js';
import { QuestionsAppModule } from './questions-app.module.js';

const config = questionsConfigFromEnv();
const app = await NestFactory.create(QuestionsAppModule.forRoot(config));
app.enableShutdownHooks();
await app.listen(config.port, '127.0.0.1');
new Logger('Questions').log(`questions service on http://127.0.0.1:${config.port} (schema ${config.schema})`);

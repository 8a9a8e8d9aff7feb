import { connectionsConfigFromEnv, envString } from '../../sample-kit/src/index.js';
import { missingServices } from './preflight.js';
import { QuestionsClient } from './questions-client.js';
import { seed } from './seed.js';
import { ServiceProcess } from './service-process.js';

// `npm run demo`: the three Q&A services as separate processes on the local RabbitMQ and PostgreSQL, seeded, with
// the addresses to open. Ctrl-C drains and stops them.

const env = process.env;
const connections = connectionsConfigFromEnv(env);
const missing = await missingServices(connections.databaseUrl, connections.rabbitMqUrl);
if (missing.length > 0) {
  console.error(`The demo needs PostgreSQL and RabbitMQ:\n${missing.map((line) => `  - ${line}`).join('\n')}`);
  process.exit(1);
}

const colours = { questions: 36, feed: 35, notifications: 33 } as const;
const prefixed =
  (name: keyof typeof colours) =>
  (line: string): string =>
    env['NO_COLOR'] ? `${name.padEnd(13)}| ${line}` : `\u001b[${colours[name]}m${name.padEnd(13)}\u001b[0m| ${line}`;
const serviceEnv = {
  // A flaky push provider and a user without a device, so retries and dead letters show in the management UI.
  NOTIFY_FAILURE_RATE: envString(env, 'NOTIFY_FAILURE_RATE', '0.2'),
  NOTIFY_UNREGISTERED_USERS: envString(env, 'NOTIFY_UNREGISTERED_USERS', 'ghost'),
};

// The consumers first, so their queues exist before the questions service publishes anything.
const services = [
  new ServiceProcess('feed', serviceEnv, prefixed('feed')),
  new ServiceProcess('notifications', serviceEnv, prefixed('notifications')),
];
let stopping = false;
const stopAll = async (code: number): Promise<never> => {
  stopping = true;
  await Promise.all(services.map((service) => service.stop()));
  process.exit(code);
};
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

try {
  const [feedUrl, notificationsUrl] = await Promise.all(services.map((service) => service.ready));
  const questions = new ServiceProcess('questions', serviceEnv, prefixed('questions'));
  services.push(questions);
  const questionsUrl = await questions.ready;
  for (const service of services) {
    void service.exited.then((how) => {
      if (stopping) return;
      console.error(`The ${service.name} service stopped unexpectedly (${how}); stopping the demo.`);
      void stopAll(1);
    });
  }
  const seeded = await seed(new QuestionsClient(questionsUrl));
  const managementUrl = envString(env, 'RABBITMQ_MANAGEMENT_URL', 'http://127.0.0.1:15672');
  console.log(`
Tidings Q&A demo is running (seeded ${seeded.questions} questions and ${seeded.answers} answers).

  Live feed page        ${feedUrl}/
  Feed API              ${feedUrl}/feed?subject=math&answered=true
  Feed stream (SSE)     ${feedUrl}/feed/stream
  Questions API         POST ${questionsUrl}/questions   e.g.
                        curl -s -XPOST ${questionsUrl}/questions -H 'content-type: application/json' \\
                          -d '{"title":"What is a prime?","body":"","subject":"math","grade":4,"authorId":"ana"}'
  Notifications         ${notificationsUrl}/notifications?userId=ana
  Health and metrics    ${questionsUrl}/health   ${questionsUrl}/metrics   (and on each service)
  RabbitMQ management   ${managementUrl}/#/queues  (guest / guest): feed.projection, notifications.answers,
                        its .retry.* tiers and its .dlq (ghost's notification ends there)

Press Ctrl-C to stop.
`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  await stopAll(1);
}

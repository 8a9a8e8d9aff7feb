import { connect } from 'amqplib';
import pg from 'pg';

/** A service the demo needs and how to start it on a Debian machine (DESIGN §9). */
interface Requirement {
  readonly name: string;
  readonly check: () => Promise<void>;
  readonly howToStart: string;
}

/** Checks that PostgreSQL and RabbitMQ answer; returns one line per missing service, with the command that starts it. */
export async function missingServices(databaseUrl: string, rabbitMqUrl: string): Promise<string[]> {
  const requirements: Requirement[] = [
    {
      name: `PostgreSQL (${databaseUrl})`,
      check: async () => {
        const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
        await client.connect();
        await client.end();
      },
      howToStart: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    },
    {
      name: `RabbitMQ (${rabbitMqUrl.replace(/\/\/[^@]*@/, '//')})`,
      check: async () => {
        const connection = await connect(rabbitMqUrl, { timeout: 3000 });
        await connection.close();
      },
      howToStart: 'rabbitmq-server -detached && rabbitmqctl await_startup && rabbitmq-plugins enable rabbitmq_management',
    },
  ];
  const missing: string[] = [];
  for (const requirement of requirements) {
    try {
      await requirement.check();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      missing.push(`${requirement.name} does not answer (${reason}); start it with: ${requirement.howToStart}`);
    }
  }
  return missing;
}

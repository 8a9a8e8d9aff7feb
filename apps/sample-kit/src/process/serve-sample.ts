import { Logger, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/**
 * Starts one sample service on 127.0.0.1 and logs `<name> service on <url> (<details>)` with the port actually bound
 * (port 0 picks a free one: the end-to-end tests and the demo read the line). SIGTERM and SIGINT drain and stop it.
 */
export async function serveSample(name: string, module: DynamicModule, port: number, details: string): Promise<void> {
  const app = await NestFactory.create(module);
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  new Logger(name).log(`${name.toLowerCase()} service on ${url} (${details})`);
}

import { deliveryCases } from './cases/delivery.cases.js';
import { featureCases } from './cases/feature.cases.js';
import { lifecycleCases } from './cases/lifecycle.cases.js';
import { poisonCases } from './cases/poison.cases.js';
import { retryCases } from './cases/retry.cases.js';
import { ConformanceFixture, TEST_TIMEOUT_MS, type SuiteContext } from './conformance.fixture.js';
import type { ConformanceTarget, ConformanceTargetFactory, TransportFeatures } from './conformance.target.js';
import { testApi } from './test-api.js';

/**
 * The suite every transport runs: routing, fan-out, competing consumers, durable publish, retries
 * and dead letters with reasons, poison messages, graceful stop and restart, and the optional
 * features it promises. Call it at the top level of a jest test file; each test gets a fresh target
 * from `factory` and disposes it afterwards.
 *
 * Tests wait on signals with deadlines, never on sleeps, and prove that something did not happen by
 * counting after a later marker message went through the same queue, so they hold on a real broker.
 *
 * @example
 * ```ts
 * describeTransportConformance('memory', async () => memoryTarget(), { ordering: true, persistence: false, eventLog: true, rejectsUnroutable: false });
 * ```
 */
export function describeTransportConformance(name: string, factory: ConformanceTargetFactory, features: TransportFeatures): void {
  const api = testApi();
  api.describe(`transport conformance: ${name}`, () => {
    let target: ConformanceTarget | undefined;
    let current: ConformanceFixture | undefined;

    api.beforeEach(async () => {
      target = await factory();
      current = new ConformanceFixture(target);
    }, TEST_TIMEOUT_MS);

    api.afterEach(async () => {
      const disposing = target;
      target = undefined;
      current = undefined;
      await disposing?.dispose();
    }, TEST_TIMEOUT_MS);

    const suite: SuiteContext = {
      api,
      name,
      features,
      fixture: () => {
        if (!current) throw new Error('No conformance target: the fixture is only available inside a test');
        return current;
      },
    };
    api.describe('delivery', () => deliveryCases(suite));
    api.describe('retries and dead letters', () => retryCases(suite));
    api.describe('poison messages', () => poisonCases(suite));
    api.describe('lifecycle', () => lifecycleCases(suite));
    api.describe('optional features', () => featureCases(suite));
  });
}

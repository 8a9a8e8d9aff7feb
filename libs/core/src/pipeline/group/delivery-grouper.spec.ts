import { DeliveryGrouper, type GroupMember } from './delivery-grouper.js';
import { resolveGroupCommitOptions, type GroupCommitOptions } from './group-commit.options.js';

interface Item extends GroupMember {
  readonly id: number;
}

/** A grouper whose groups finish only when the test says so. */
function harness(options: GroupCommitOptions) {
  const groups: { ids: number[]; finish: () => void }[] = [];
  let started = 0;
  const grouper = new DeliveryGrouper<Item>(resolveGroupCommitOptions(options, 'test'), (group) => {
    started++;
    return new Promise<void>((finish) => groups.push({ ids: group.map((m) => m.id), finish }));
  });
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return { grouper, groups, turn, started: () => started };
}

const item = (id: number, orderingKey?: string): Item => ({ id, ...(orderingKey !== undefined && { orderingKey }) });

describe('DeliveryGrouper', () => {
  it('puts members that arrive in one turn of the event loop into one group', async () => {
    const { grouper, groups, turn } = harness({ maxMessages: 10 });
    for (let id = 1; id <= 4; id++) grouper.add(item(id));
    await turn();
    expect(groups.map((g) => g.ids)).toEqual([[1, 2, 3, 4]]);
  });

  it('caps a group at maxMessages and the groups running at groupsInFlight; a finished group lets the next start', async () => {
    const { grouper, groups, turn } = harness({ maxMessages: 3, groupsInFlight: 2 });
    for (let id = 1; id <= 8; id++) grouper.add(item(id));
    await turn();
    expect(groups.map((g) => g.ids)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(grouper.size).toEqual({ waiting: 2, running: 2 });
    groups[0]!.finish();
    await turn();
    expect(groups.map((g) => g.ids)[2]).toEqual([7, 8]);
  });

  it('keeps a key in one running group at a time and its members in order, without holding back other keys', async () => {
    const { grouper, groups, turn } = harness({ maxMessages: 2, groupsInFlight: 3 });
    grouper.add(item(1, 'a'));
    grouper.add(item(2, 'a'));
    grouper.add(item(3, 'a'));
    grouper.add(item(4, 'b'));
    grouper.add(item(5));
    await turn();
    // [1,2] holds a; 3 must wait for it, 4 and 5 need not.
    expect(groups.map((g) => g.ids)).toEqual([
      [1, 2],
      [4, 5],
    ]);
    groups[1]!.finish();
    await turn();
    expect(groups).toHaveLength(2);
    groups[0]!.finish();
    await turn();
    expect(groups.map((g) => g.ids)[2]).toEqual([3]);
  });

  it('lets a lone member wait maxWaitMs for company', async () => {
    const { grouper, groups, turn } = harness({ maxMessages: 10, maxWaitMs: 40 });
    grouper.add(item(1));
    await turn();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(groups).toHaveLength(0);
    grouper.add(item(2));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(groups.map((g) => g.ids)).toEqual([[1, 2]]);
  });

  it('starts a full group without waiting', async () => {
    const { grouper, groups, turn } = harness({ maxMessages: 2, maxWaitMs: 60_000 });
    grouper.add(item(1));
    grouper.add(item(2));
    grouper.add(item(3));
    await turn();
    expect(groups.map((g) => g.ids)).toEqual([[1, 2]]);
  });

  it('keeps going after a group that rejects', async () => {
    const seen: number[][] = [];
    const grouper = new DeliveryGrouper<Item>(resolveGroupCommitOptions({ maxMessages: 1, groupsInFlight: 1 }, 'test'), async (group) => {
      seen.push(group.map((m) => m.id));
      throw new Error('bug');
    });
    grouper.add(item(1));
    grouper.add(item(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([[1], [2]]);
  });

  it('refuses invalid options, naming them', () => {
    expect(() => resolveGroupCommitOptions({ maxMessages: 0 }, 'Group commit of x')).toThrow(
      'Group commit of x: maxMessages must be a whole number from 1, got 0',
    );
    expect(() => resolveGroupCommitOptions({ maxWaitMs: -1 }, 'g')).toThrow('g: maxWaitMs must be a number of milliseconds from 0, got -1');
    expect(() => resolveGroupCommitOptions({ groupsInFlight: 1.5 }, 'g')).toThrow('groupsInFlight must be a whole number from 1');
  });
});

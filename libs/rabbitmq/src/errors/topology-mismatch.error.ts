import { TidingsError } from '@tidings/core';

/** A queue or exchange exists with other arguments than Tidings declares (AMQP 406 PRECONDITION_FAILED). */
export class TopologyMismatchError extends TidingsError {
  readonly code = 'TIDINGS_TOPOLOGY_MISMATCH';

  readonly kind: 'queue' | 'exchange';
  readonly queueOrExchange: string;
  readonly argument: string | undefined;

  constructor(kind: 'queue' | 'exchange', name: string, argument: string | undefined, brokerMessage: string) {
    super(
      `The ${kind} '${name}' exists with ${argument ? `a different '${argument}'` : 'different arguments'} than Tidings declares (${brokerMessage})`,
      {
        context: { kind, name, argument },
        hint:
          `Tidings never deletes a ${kind}. Either configure Tidings to match (e.g. queueType), or move the messages ` +
          `elsewhere (a shovel), delete '${name}' yourself, and restart so it is declared again.`,
      },
    );
    this.kind = kind;
    this.queueOrExchange = name;
    this.argument = argument;
  }
}

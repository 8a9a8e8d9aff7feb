import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TypeOrmOutbox } from '@tidings/typeorm';
import { AnswerAdded } from '../../../../qa-events/src/index.js';
import { QuestionNotFoundError } from '../question.errors.js';
import { QuestionRows } from '../question.rows.js';
import type { AnswerView } from '../question.view.js';

export class AddAnswer extends Command<AnswerView> {
  constructor(
    readonly questionId: string,
    readonly body: string,
    readonly authorId: string,
  ) {
    super();
  }
}

/** Stores the answer and its `qa.answer.added` event in one transaction, holding the question's lock. */
@CommandHandler(AddAnswer)
export class AddAnswerHandler implements ICommandHandler<AddAnswer> {
  constructor(
    private readonly outbox: TypeOrmOutbox,
    private readonly rows: QuestionRows,
  ) {}

  async execute(command: AddAnswer): Promise<AnswerView> {
    return this.outbox.transactions.run(async (manager) => {
      if (!(await this.rows.lockQuestion(manager, command.questionId))) throw new QuestionNotFoundError(command.questionId);
      const answer: AnswerView = {
        id: globalThis.crypto.randomUUID(),
        questionId: command.questionId,
        body: command.body,
        authorId: command.authorId,
        addedAt: new Date().toISOString(),
      };
      await this.rows.insertAnswer(manager, answer);
      await this.outbox.publish(new AnswerAdded(answer.id, answer.questionId, answer.body, answer.authorId, answer.addedAt), {
        partitionKey: answer.questionId,
        subject: answer.questionId,
      });
      return answer;
    });
  }
}

import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TypeOrmOutbox } from '@tidings/typeorm';
import { QuestionAsked } from '../../../../qa-events/src/index.js';
import { QuestionRows } from '../question.rows.js';
import type { QuestionView } from '../question.view.js';

export class AskQuestion extends Command<QuestionView> {
  constructor(
    readonly title: string,
    readonly body: string,
    readonly subject: string,
    readonly grade: number,
    readonly authorId: string,
  ) {
    super();
  }
}

/** Stores the question and its `qa.question.asked` event in one transaction. */
@CommandHandler(AskQuestion)
export class AskQuestionHandler implements ICommandHandler<AskQuestion> {
  constructor(
    private readonly outbox: TypeOrmOutbox,
    private readonly rows: QuestionRows,
  ) {}

  async execute(command: AskQuestion): Promise<QuestionView> {
    const question: QuestionView = {
      id: globalThis.crypto.randomUUID(),
      title: command.title,
      body: command.body,
      subject: command.subject,
      grade: command.grade,
      authorId: command.authorId,
      askedAt: new Date().toISOString(),
      acceptedAnswerId: null,
    };
    await this.outbox.transactions.run(async (manager) => {
      await this.rows.insertQuestion(manager, question);
      await this.outbox.publish(
        new QuestionAsked(
          question.id,
          question.title,
          question.body,
          question.subject,
          question.grade,
          question.authorId,
          question.askedAt,
        ),
        { partitionKey: question.id, subject: question.id },
      );
    });
    return question;
  }
}

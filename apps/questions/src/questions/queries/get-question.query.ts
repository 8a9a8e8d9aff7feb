import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { QuestionNotFoundError } from '../question.errors.js';
import { QuestionRows } from '../question.rows.js';
import type { QuestionWithAnswers } from '../question.view.js';

export class GetQuestion extends Query<QuestionWithAnswers> {
  constructor(readonly questionId: string) {
    super();
  }
}

@QueryHandler(GetQuestion)
export class GetQuestionHandler implements IQueryHandler<GetQuestion> {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly rows: QuestionRows,
  ) {}

  async execute({ questionId }: GetQuestion): Promise<QuestionWithAnswers> {
    const manager = this.dataSource.manager;
    const question = await this.rows.findQuestion(manager, questionId);
    if (!question) throw new QuestionNotFoundError(questionId);
    return { ...question, answers: await this.rows.answersOf(manager, questionId) };
  }
}

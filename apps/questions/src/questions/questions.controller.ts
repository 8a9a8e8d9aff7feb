import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { OutboxBackpressureGuard } from '@tidings/nestjs';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import { ZodRequestPipe } from '../../../sample-kit/src/index.js';
import { AcceptAnswer } from './commands/accept-answer.command.js';
import { AddAnswer } from './commands/add-answer.command.js';
import { AskQuestion } from './commands/ask-question.command.js';
import { GetQuestion } from './queries/get-question.query.js';
import { AnswerNotFoundError, QuestionNotFoundError } from './question.errors.js';
import { addAnswerRequest, askQuestionRequest, isId } from './question.requests.js';
import type { AnswerView, QuestionView, QuestionWithAnswers } from './question.view.js';

/** The public contract of DESIGN §8. */
@Controller('questions')
export class QuestionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @UseGuards(OutboxBackpressureGuard)
  ask(@Body(new ZodRequestPipe(askQuestionRequest, 'body')) body: z.infer<typeof askQuestionRequest>): Promise<QuestionView> {
    return this.commands.execute(new AskQuestion(body.title, body.body, body.subject, body.grade, body.authorId));
  }

  @Post(':id/answers')
  @UseGuards(OutboxBackpressureGuard)
  answer(
    @Param('id') id: string,
    @Body(new ZodRequestPipe(addAnswerRequest, 'body')) body: z.infer<typeof addAnswerRequest>,
  ): Promise<AnswerView> {
    if (!isId(id)) throw new QuestionNotFoundError(id);
    return this.commands.execute(new AddAnswer(id, body.body, body.authorId));
  }

  @Post(':id/answers/:answerId/accept')
  @UseGuards(OutboxBackpressureGuard)
  @HttpCode(200)
  accept(@Param('id') id: string, @Param('answerId') answerId: string): Promise<QuestionView> {
    if (!isId(id)) throw new QuestionNotFoundError(id);
    if (!isId(answerId)) throw new AnswerNotFoundError(id, answerId);
    return this.commands.execute(new AcceptAnswer(id, answerId));
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<QuestionWithAnswers> {
    if (!isId(id)) throw new QuestionNotFoundError(id);
    return this.queries.execute(new GetQuestion(id));
  }
}

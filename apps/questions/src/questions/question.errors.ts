import { ConflictException, NotFoundException } from '@nestjs/common';

export class QuestionNotFoundError extends NotFoundException {
  constructor(questionId: string) {
    super(`Question ${questionId} does not exist`);
  }
}

export class AnswerNotFoundError extends NotFoundException {
  constructor(questionId: string, answerId: string) {
    super(`Question ${questionId} has no answer ${answerId}`);
  }
}

export class AnotherAnswerAcceptedError extends ConflictException {
  constructor(questionId: string, acceptedAnswerId: string) {
    super(`Question ${questionId} already accepted answer ${acceptedAnswerId}`);
  }
}

import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/**
 * Validates a request's body or query parameters with a zod schema; a 400 lists every problem as
 * `field: what is wrong`, so a client learns everything it must fix from one answer.
 */
export class ZodRequestPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  /** @param part what the schema checks, named in problems without a path (`body: expected an object`) */
  constructor(
    private readonly schema: S,
    private readonly part: 'body' | 'query',
  ) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : this.part}: ${issue.message}`);
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems });
  }
}

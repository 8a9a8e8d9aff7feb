import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/** Validates a request's query parameters with a zod schema; a 400 lists every problem as `parameter: what is wrong`. */
export class ZodQueryPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'query'}: ${issue.message}`);
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems });
  }
}

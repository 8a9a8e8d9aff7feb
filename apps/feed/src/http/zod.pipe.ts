import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/** Which part of the request a {@link ZodPipe} validates: names a problem that concerns the whole of it. */
export type RequestPart = 'body' | 'query' | 'params';

/**
 * Validates a part of the request with a zod schema and returns the parsed value; a 400 lists every problem as
 * `field: what is wrong`. The generic form of the questions service's `ZodBodyPipe`, for query strings too.
 *
 * @example `@Query(new ZodPipe(feedQuery, 'query')) query: FeedQuery`
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    /** @default 'body' */
    private readonly part: RequestPart = 'body',
  ) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : this.part}: ${issue.message}`);
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems });
  }
}

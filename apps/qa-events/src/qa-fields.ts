import { z } from 'zod';

/** Grades a question can be tagged with (school years). */
export const GRADE = z.number().int().min(1).max(12);

/** A non-empty identifier such as a user or question id. */
export const ID = z.string().min(1).max(100);

/** RFC 3339 timestamps as events carry them. */
export const TIMESTAMP = z.iso.datetime({ offset: true });

import { z } from 'zod';

/**
 * `GET /notifications?userId=`: the user is required. Other parameters are ignored, so a cache-busting one does no
 * harm; `?userId=a&userId=b` arrives as a list and is refused.
 */
export const listNotificationsQuery = z.object({
  userId: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be one user id') })
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters'),
});

/** `Name: message` of a thrown value, for log lines and stored failure reasons. */
export const errorSummary = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** The few logging calls Tidings components make; Nest's `LoggerService` and `console` fit. */
export interface TidingsLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

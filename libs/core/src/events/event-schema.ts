/**
 * The Standard Schema v1 interface (https://standardschema.dev), implemented by zod, valibot,
 * arktype and others. Declared here as a type so the core depends on no schema library.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- mirrors the published spec's shape
export declare namespace StandardSchemaV1 {
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: readonly Issue[];
  }
  interface Issue {
    readonly message: string;
    readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
  }
}

/**
 * How an event's data is checked on consume: a Standard Schema, or a function that returns the
 * (possibly transformed) data and throws when it is invalid.
 */
export type EventSchema<T> = StandardSchemaV1<unknown, T> | ((data: unknown) => T);

import type { DynamicModule, ForwardReference, ModuleMetadata, Type } from '@nestjs/common';
import { MODULE_METADATA } from '@nestjs/common/constants.js';
import { EventBusModule } from '@tidings/nestjs';

type Import = NonNullable<ModuleMetadata['imports']>[number];

const isForwardReference = (value: object): value is ForwardReference => 'forwardRef' in value;
const isDynamicModule = (value: object): value is DynamicModule => 'module' in value;

/**
 * Whether the module tree below `imports` already configures `EventBusModule` (an application's root
 * module usually does), read from the modules' public metadata.
 */
export async function importsEventBusModule(imports: readonly Import[], seen = new Set<unknown>()): Promise<boolean> {
  for (const entry of imports) {
    const resolved: unknown = await entry;
    if (!resolved || (typeof resolved !== 'object' && typeof resolved !== 'function') || seen.has(resolved)) continue;
    seen.add(resolved);
    const item = resolved as object;
    if (typeof item === 'object' && isForwardReference(item)) {
      if (await importsEventBusModule([item.forwardRef() as Import], seen)) return true;
      continue;
    }
    const type: Type | undefined = typeof item === 'function' ? (item as Type) : isDynamicModule(item) ? item.module : undefined;
    if (!type) continue;
    if (type === EventBusModule || type.prototype instanceof EventBusModule) return true;
    const staticImports = (Reflect.getMetadata(MODULE_METADATA.IMPORTS, type) as Import[] | undefined) ?? [];
    const dynamicImports = typeof item === 'object' && isDynamicModule(item) ? (item.imports ?? []) : [];
    if (await importsEventBusModule([...staticImports, ...dynamicImports], seen)) return true;
  }
  return false;
}

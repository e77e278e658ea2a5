/** Every function Portcullis registers. Add a trigger module here and nowhere else. */
import type { FunctionDefinition } from "./definition.ts";
import { health } from "./health.ts";

export const functionDefinitions: readonly FunctionDefinition[] = [health];

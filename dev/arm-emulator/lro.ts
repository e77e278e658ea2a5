/**
 * Long-running operations: each write that Azure answers asynchronously registers an operation here that completes
 * after `lroDelayMs` (by timer, or at the first poll past its due time), applying its state change and publishing its
 * events then. Pollers see 202 / "InProgress" until that moment, exactly as against Azure.
 */
import { randomUUID } from "node:crypto";
import { ArmError } from "./errors.ts";

export type OperationStatus = "InProgress" | "Succeeded" | "Failed";

/** One asynchronous operation and what its polling URLs answer once it is over. */
export interface Operation {
  readonly id: string;
  readonly dueAt: number;
  status: OperationStatus;
  error: ArmError | undefined;
  /** The final answer of the Location URL once succeeded (e.g. 200 + the resource, or 204). */
  readonly finalResult: () => { status: number; body?: unknown };
}

interface Tracked {
  readonly operation: Operation;
  readonly complete: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** Registry of the operations in flight; `clear` cancels them (on reset and close). */
export class OperationTracker {
  readonly #delayMs: number;
  readonly #operations = new Map<string, Tracked>();

  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }

  /**
   * Starts an operation. `complete` applies the change (and may throw an ArmError to fail the operation);
   * `finalResult` says what the Location URL answers once it succeeded.
   */
  start(complete: () => void, finalResult: () => { status: number; body?: unknown }): Operation {
    const operation: Operation = { id: randomUUID(), dueAt: Date.now() + this.#delayMs, status: "InProgress", error: undefined, finalResult };
    const tracked: Tracked = { operation, complete, timer: undefined };
    tracked.timer = setTimeout(() => this.#settle(tracked), this.#delayMs);
    tracked.timer.unref();
    this.#operations.set(operation.id, tracked);
    return operation;
  }

  /** The operation with this id, settled first if it is past due; undefined when unknown. */
  get(id: string): Operation | undefined {
    const tracked = this.#operations.get(id.toLowerCase()) ?? this.#operations.get(id);
    if (!tracked) return undefined;
    if (tracked.operation.status === "InProgress" && Date.now() >= tracked.operation.dueAt) this.#settle(tracked);
    return tracked.operation;
  }

  /** How many operations are still running. */
  inProgress(): number {
    return [...this.#operations.values()].filter((t) => t.operation.status === "InProgress").length;
  }

  /** Cancels every timer and forgets every operation. */
  clear(): void {
    for (const tracked of this.#operations.values()) clearTimeout(tracked.timer);
    this.#operations.clear();
  }

  #settle(tracked: Tracked): void {
    if (tracked.operation.status !== "InProgress") return;
    clearTimeout(tracked.timer);
    try {
      tracked.complete();
      tracked.operation.status = "Succeeded";
    } catch (error) {
      tracked.operation.status = "Failed";
      tracked.operation.error =
        error instanceof ArmError ? error : new ArmError(500, "InternalServerError", `The operation failed: ${(error as Error).message}`);
    }
  }
}

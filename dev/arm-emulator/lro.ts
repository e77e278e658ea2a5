/**
 * Long-running operations: each write that Azure answers asynchronously registers an operation here that completes
 * after the delay (by timer, or at the first poll past its due time), applying its state change and publishing its
 * events then. Pollers see 202 / "InProgress" until that moment, exactly as against Azure.
 *
 * Every operation names the resource it writes, so a second write to that resource while it runs is refused the way
 * the provider refuses it (409 / 429, see `inFlightOn`). Tests (and the control API, `/_emulator/operations`) can
 * change the delay of later operations, hold operations in flight until released, and list or settle them.
 */
import { randomUUID } from "node:crypto";
import { ArmError } from "./errors.ts";
import { idKey } from "./ids.ts";

export type OperationStatus = "InProgress" | "Succeeded" | "Failed";

/** One asynchronous operation and what its polling URLs answer once it is over. */
export interface Operation {
  readonly id: string;
  /** The resource the operation writes (compared case-insensitively). */
  readonly resourceId: string;
  readonly startTime: string;
  endTime: string | undefined;
  dueAt: number;
  status: OperationStatus;
  error: ArmError | undefined;
  /** Held: stays InProgress until released, whatever the delay. */
  held: boolean;
  /** The final answer of the Location URL once succeeded (e.g. 200 + the resource, or 204). */
  readonly finalResult: () => { status: number; body?: unknown };
}

/** An operation as the control API lists it. */
export interface OperationView {
  readonly id: string;
  readonly resourceId: string;
  readonly status: OperationStatus;
  readonly startTime: string;
  readonly endTime?: string;
  readonly held: boolean;
}

/** Settings of operations started from now on. */
export interface OperationSettings {
  /** How long an operation stays InProgress (ms). */
  readonly delayMs: number;
  /** New operations start held: they complete only when released. */
  readonly hold: boolean;
}

interface Tracked {
  readonly operation: Operation;
  readonly complete: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** Registry of the operations in flight; `clear` cancels them (on reset and close). */
export class OperationTracker {
  #settings: OperationSettings;
  readonly #operations = new Map<string, Tracked>();

  constructor(delayMs: number) {
    this.#settings = { delayMs, hold: false };
  }

  settings(): OperationSettings {
    return this.#settings;
  }

  /** Changes the delay and/or hold of operations started from now on. */
  configure(settings: Partial<OperationSettings>): OperationSettings {
    this.#settings = { ...this.#settings, ...settings };
    return this.#settings;
  }

  /**
   * Starts an operation on `resourceId`. `complete` applies the change (and may throw an ArmError to fail the
   * operation); `finalResult` says what the Location URL answers once it succeeded.
   */
  start(resourceId: string, complete: () => void, finalResult: () => { status: number; body?: unknown }): Operation {
    const { delayMs, hold } = this.#settings;
    const operation: Operation = {
      id: randomUUID(),
      resourceId,
      startTime: new Date().toISOString(),
      endTime: undefined,
      dueAt: Date.now() + delayMs,
      status: "InProgress",
      error: undefined,
      held: hold,
      finalResult,
    };
    const tracked: Tracked = { operation, complete, timer: undefined };
    if (!hold) this.#arm(tracked, delayMs);
    this.#operations.set(operation.id, tracked);
    return operation;
  }

  /** The operation with this id, settled first if it is past due; undefined when unknown. */
  get(id: string): Operation | undefined {
    const tracked = this.#operations.get(id.toLowerCase()) ?? this.#operations.get(id);
    if (!tracked) return undefined;
    this.#settleIfDue(tracked);
    return tracked.operation;
  }

  /** The operation still running on this resource (or, with `includeChildren`, on a child of it), if any. */
  inFlightOn(resourceId: string, options: { includeChildren?: boolean } = {}): Operation | undefined {
    const key = idKey(resourceId);
    for (const tracked of this.#operations.values()) {
      this.#settleIfDue(tracked);
      if (tracked.operation.status !== "InProgress") continue;
      const target = idKey(tracked.operation.resourceId);
      if (target === key || (options.includeChildren === true && target.startsWith(`${key}/`))) return tracked.operation;
    }
    return undefined;
  }

  /** How many operations are still running. */
  inProgress(): number {
    return this.list().filter((o) => o.status === "InProgress").length;
  }

  list(): OperationView[] {
    return [...this.#operations.values()].map(({ operation: o }) => ({
      id: o.id,
      resourceId: o.resourceId,
      status: o.status,
      startTime: o.startTime,
      ...(o.endTime === undefined ? {} : { endTime: o.endTime }),
      held: o.held,
    }));
  }

  /** Completes one running operation now (held or not); false when it is unknown or already over. */
  settleNow(id: string): boolean {
    const tracked = this.#operations.get(id);
    if (!tracked || tracked.operation.status !== "InProgress") return false;
    this.#settle(tracked);
    return true;
  }

  /** Releases every held operation: each completes after the current delay (at once with delay 0). Returns how many. */
  release(): number {
    let released = 0;
    for (const tracked of this.#operations.values()) {
      if (!tracked.operation.held || tracked.operation.status !== "InProgress") continue;
      tracked.operation.held = false;
      released += 1;
      if (this.#settings.delayMs <= 0) this.#settle(tracked);
      else this.#arm(tracked, this.#settings.delayMs);
    }
    return released;
  }

  /** Cancels every timer and forgets every operation. */
  clear(): void {
    for (const tracked of this.#operations.values()) clearTimeout(tracked.timer);
    this.#operations.clear();
  }

  #arm(tracked: Tracked, delayMs: number): void {
    tracked.operation.dueAt = Date.now() + delayMs;
    clearTimeout(tracked.timer);
    tracked.timer = setTimeout(() => this.#settle(tracked), delayMs);
    tracked.timer.unref();
  }

  #settleIfDue(tracked: Tracked): void {
    const o = tracked.operation;
    if (o.status === "InProgress" && !o.held && Date.now() >= o.dueAt) this.#settle(tracked);
  }

  #settle(tracked: Tracked): void {
    if (tracked.operation.status !== "InProgress") return;
    clearTimeout(tracked.timer);
    tracked.operation.held = false;
    try {
      tracked.complete();
      tracked.operation.status = "Succeeded";
    } catch (error) {
      tracked.operation.status = "Failed";
      tracked.operation.error =
        error instanceof ArmError ? error : new ArmError(500, "InternalServerError", `The operation failed: ${(error as Error).message}`);
    }
    tracked.operation.endTime = new Date().toISOString();
  }
}

/**
 * The body of an operation-status URL (ARM RPC async operations; common-types OperationStatusResult, as
 * apimanagement operationStatuses.json returns it): id, name, status, startTime, endTime once over, error if failed.
 */
export function operationStatusBody(operation: Operation, statusUrlPath: string): Record<string, unknown> {
  return {
    id: statusUrlPath,
    name: operation.id,
    status: operation.status,
    startTime: operation.startTime,
    ...(operation.endTime === undefined ? {} : { endTime: operation.endTime }),
    ...(operation.status === "Failed" && operation.error ? { error: operation.error.toBody().error } : {}),
  };
}

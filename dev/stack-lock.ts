/**
 * One local stack per state directory. `npm start` writes .local/stack.json and the CA files there; a second
 * `npm start` must not overwrite them while the first runs (its CLI users would suddenly talk to another stack, or
 * to none). The lock is a file created exclusively (`wx`), holding the owner's pid: a lock whose process has
 * exited (killed, crashed) is stale and taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface StackLock {
  readonly stateDir: string;
  /** Removes the lock and the stack file, so `--local` says at once that no stack is running. */
  release(): void;
}

export interface RunningStack {
  readonly pid: number;
  readonly startedAt: string | undefined;
  readonly functionsHostUrl: string | undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What the stack file of a running owner says, for the refusal message. */
function describeOwner(stateDir: string, pid: number): RunningStack {
  try {
    const file = JSON.parse(readFileSync(join(stateDir, "stack.json"), "utf8")) as { startedAt?: unknown; functionsHostUrl?: unknown };
    return {
      pid,
      startedAt: typeof file.startedAt === "string" ? file.startedAt : undefined,
      functionsHostUrl: typeof file.functionsHostUrl === "string" ? file.functionsHostUrl : undefined,
    };
  } catch {
    return { pid, startedAt: undefined, functionsHostUrl: undefined };
  }
}

/** Takes the state directory's lock for this process, or reports the running stack that holds it. */
export function lockStateDir(stateDir: string): { locked: StackLock } | { heldBy: RunningStack } {
  mkdirSync(stateDir, { recursive: true });
  const lockFile = join(stateDir, "stack.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx" });
      return {
        locked: {
          stateDir,
          release() {
            if (readFileSync(lockFile, "utf8").trim() !== String(process.pid)) return;
            rmSync(join(stateDir, "stack.json"), { force: true });
            rmSync(lockFile, { force: true });
          },
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(readFileSync(lockFile, "utf8").trim(), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) return { heldBy: describeOwner(stateDir, owner) };
      // The owner has exited without releasing (kill -9, crash): the lock is stale.
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not take the lock ${lockFile}: another npm start keeps taking it`);
}

/**
 * apimart's asynchronous tasks as the simulator keeps them (`state.ts` stores them per key), and
 * what a read of one shows at a given time. A task is one of:
 * - `session` (real-avatar step 1): `completed` at once, its result the H5 session;
 * - `verification` (step 2): `processing` while the person has not finished the H5 check, then
 *   `completed` with the group id, or `failed` (the token expired, was used, or the check failed);
 * - `review` (step 3, `private-avatar`, `private-avatar/assets`): `processing` for the
 *   simulator's `activationMs`, then every asset at once: `completed` when all are Active,
 *   `failed` when any failed, keeping the per-asset result either way (seed 004).
 */
import type { UpstreamErrorCode } from '../upstream/errors.js';
import type { VerificationSession } from '../upstream/port.js';

/** The statuses `GET /v1/tasks/{id}` reports (apimart's M2). */
export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** Why a verification task failed: the code `completeVerification` rejected with. */
export interface TaskFailure {
  code: UpstreamErrorCode;
  message: string;
}

/** One submitted item of a review, in submission order. */
export interface ReviewItem {
  assetId: string;
  /** Whether its review fails (`fail-face`, `fail-moderation`, `download-fails`). */
  fails: boolean;
}

interface StoredTaskBase {
  id: string;
  createdAt: number;
}

export type StoredTask = StoredTaskBase &
  (
    | { kind: 'session'; session: VerificationSession }
    | {
        kind: 'verification';
        token: string;
        /** Set once the token was exchanged or refused; until then, reads ask again. */
        settled: { at: number; groupId: string } | { at: number; failure: TaskFailure } | null;
      }
    | { kind: 'review'; groupId: string; items: ReviewItem[] }
  );

/** A task as a read shows it. */
export interface SimulatorTask {
  id: string;
  kind: StoredTask['kind'];
  status: TaskStatus;
  /** 0-100. */
  progress: number;
  createdAt: Date;
  completedAt: Date | null;
  /** `session` tasks. */
  session?: VerificationSession;
  /** `verification` tasks once verified; `review` tasks, the group the assets went into. */
  groupId?: string;
  /** `review` tasks once ended, in submission order. */
  reviewed?: { assetId: string; status: 'Active' | 'Failed' }[];
  /** `verification` tasks that failed. */
  failure?: TaskFailure;
}

/** What a read of `task` shows at `now`, when reviews take `reviewMs`. */
export function viewTask(task: StoredTask, now: number, reviewMs: number): SimulatorTask {
  const base = { id: task.id, kind: task.kind, createdAt: new Date(task.createdAt) };
  switch (task.kind) {
    case 'session':
      return {
        ...base,
        status: 'completed',
        progress: 100,
        completedAt: base.createdAt,
        session: { ...task.session },
      };
    case 'verification': {
      const settled = task.settled;
      if (settled === null)
        return { ...base, status: 'processing', progress: 10, completedAt: null };
      const ended = { ...base, progress: 100, completedAt: new Date(settled.at) };
      return 'groupId' in settled
        ? { ...ended, status: 'completed', groupId: settled.groupId }
        : { ...ended, status: 'failed', failure: { ...settled.failure } };
    }
    case 'review': {
      const endsAt = task.createdAt + reviewMs;
      if (now < endsAt) {
        const elapsed = reviewMs > 0 ? (now - task.createdAt) / reviewMs : 1;
        return {
          ...base,
          status: 'processing',
          progress: Math.min(90, 10 + Math.floor(80 * elapsed)),
          completedAt: null,
          groupId: task.groupId,
        };
      }
      const reviewed = task.items.map((item) => ({
        assetId: item.assetId,
        status: item.fails ? ('Failed' as const) : ('Active' as const),
      }));
      return {
        ...base,
        status: task.items.some((item) => item.fails) ? 'failed' : 'completed',
        progress: 100,
        completedAt: new Date(endsAt),
        groupId: task.groupId,
        reviewed,
      };
    }
  }
}

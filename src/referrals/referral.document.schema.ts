import { z } from 'zod';
import { CHANNELS, DELIVERY_STATES } from '../db/codes.ts';
import { REFERRAL_STATUSES } from '../records/referral.status.ts';

const timestamp = z.string().describe('ISO 8601, UTC');
const nullableTimestamp = timestamp.nullable();

/** The shape of the status document; the builder is typed by it and OpenAPI is generated from it. */
export const StatusDocumentSchema = z.object({
  id: z.string(),
  reference: z.string().describe('SR-YYYY-NNNNNN'),
  status: z.enum(REFERRAL_STATUSES),
  source: z.object({ system: z.string(), reference: z.string() }),
  receivedAt: timestamp,
  updatedAt: timestamp,
  subjectType: z.enum(['adult', 'child']),
  referralType: z.enum(['safeguarding', 'care-concern']),
  urgency: z.enum(['immediate', 'urgent', 'routine']),
  categories: z.array(z.string()),
  directoryVersion: z.number().int().nullable(),
  routes: z.array(
    z.object({
      authority: z.string(),
      authorityName: z.string(),
      team: z.string(),
      teamName: z.string(),
      teamKind: z.enum(['adults', 'children', 'out-of-hours']),
      reason: z.enum(['subject-type', 'household-children', 'out-of-hours', 'redirected', 'manual']),
      ackBy: timestamp,
      acknowledgedAt: nullableTimestamp,
      outcome: z.string().nullable(),
    }),
  ),
  triage: z.array(
    z.object({ reason: z.string(), detail: z.string(), triageBy: timestamp, resolvedAt: nullableTimestamp }),
  ),
  deliveries: z.array(
    z.object({
      id: z.string(),
      team: z.string(),
      channel: z.enum(CHANNELS),
      address: z.string(),
      purpose: z.string(),
      state: z.enum(DELIVERY_STATES),
      attempts: z.number().int(),
      lastError: z.string().nullable(),
      sendBy: timestamp,
      sentAt: nullableTimestamp,
      acknowledgedAt: nullableTimestamp,
    }),
  ),
  deadlines: z.object({ sendBy: nullableTimestamp, ackBy: nullableTimestamp, triageBy: nullableTimestamp }),
  acknowledgements: z.array(
    z.object({
      team: z.string(),
      at: timestamp,
      method: z.string(),
      by: z.string(),
      /** The closed team an out-of-hours team acknowledged as cover for; that team's own route stays. */
      coverFor: z.string().nullable(),
    }),
  ),
  escalations: z.array(
    z.object({
      id: z.string(),
      team: z.string().nullable(),
      reason: z.string(),
      state: z.enum(['open', 'claimed', 'resolved']),
      openedAt: timestamp,
      claimedBy: z.string().nullable(),
      resolvedAt: nullableTimestamp,
    }),
  ),
  timeline: z.array(
    z.object({
      at: timestamp,
      kind: z.string(),
      actor: z.string(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
});

export type StatusDocument = z.infer<typeof StatusDocumentSchema>;

export const ReferralSummarySchema = StatusDocumentSchema.pick({
  id: true,
  reference: true,
  status: true,
  source: true,
  receivedAt: true,
  updatedAt: true,
  subjectType: true,
  urgency: true,
});

export type ReferralSummary = z.infer<typeof ReferralSummarySchema>;

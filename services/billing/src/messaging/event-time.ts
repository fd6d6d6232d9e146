/** The domain time an event carries (payload), or the envelope's when it is missing or bad. */
export function eventTime(payloadTime: string | null | undefined, envelopeTime: string): Date {
  const candidate = new Date(payloadTime ?? envelopeTime);
  return Number.isNaN(candidate.getTime()) ? new Date(envelopeTime) : candidate;
}
